from pathlib import Path

import pytest

from bot.util.paths import PathRefused, resolve_directory


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "root" / "a" / "b").mkdir(parents=True)
    (tmp_path / "root" / "file.txt").write_text("x")
    (tmp_path / "outside").mkdir()
    (tmp_path / "root" / "escape").symlink_to(tmp_path / "outside")
    (tmp_path / "root" / "inner").symlink_to(tmp_path / "root" / "a")
    return tmp_path


def test_cd_resolves_inside_roots(tree: Path) -> None:
    root = tree / "root"
    assert resolve_directory(root, "a", [root]) == root / "a"
    assert resolve_directory(root / "a" / "b", "..", [root]) == root / "a"
    assert resolve_directory(root, str(root / "a" / "b"), [root]) == root / "a" / "b"
    assert resolve_directory(root, "inner", [root]) == root / "a"


def test_cd_accepts_a_path_in_quotes(tree: Path) -> None:
    root = tree / "root"
    (root / "my project").mkdir()
    for typed in ['"my project"', "'my project'", "“my project”", "my project"]:
        assert resolve_directory(root, typed, [root]) == root / "my project", typed
    with pytest.raises(PathRefused):
        resolve_directory(root, '"my project', [root])  # unbalanced: taken literally, and there is no such directory


@pytest.mark.parametrize(
    "argument, reason",
    [
        ("..", "outside"),
        ("escape", "outside"),
        ("a/../../outside", "outside"),
        ("missing", "does not exist"),
        ("file.txt", "not a directory"),
        ("a\x00b", "characters"),
        ("x" * 5000, "characters"),
        ("   ", "Give a path"),
    ],
)
def test_cd_refuses_bad_paths(tree: Path, argument: str, reason: str) -> None:
    root = tree / "root"
    with pytest.raises(PathRefused, match=reason):
        resolve_directory(root, argument, [root])


def test_cd_expands_home(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tree / "root"))
    assert resolve_directory(tree, "~/a", [tree / "root"]) == tree / "root" / "a"
