"""bot.features.diff against real git: snapshots include untracked files and leave the user's index alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.features import diff
from bot.features.diff import compare, snapshot, summary_line
from tests.e2e.git_repo import git, make_repo


async def test_outside_git_there_is_no_snapshot(tmp_path: Path) -> None:
    assert await snapshot(tmp_path) is None


async def test_nothing_changed_is_no_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    before = await snapshot(repo)
    assert before is not None and await compare(before) is None


async def test_edits_untracked_and_deleted_files_are_counted(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "1\n2\n3\n", "gone.txt": "x\n", ".gitignore": "*.log\n"})
    index = (repo / ".git" / "index").read_bytes()
    (repo / "sub").mkdir()
    before = await snapshot(repo / "sub")  # from a subdirectory: the whole work tree counts
    assert before is not None and before.top == repo
    (repo / "a.txt").write_text("1\ntwo\n3\n4\n")
    (repo / "gone.txt").unlink()
    (repo / "new.txt").write_text("n\n")
    (repo / "ignored.log").write_text("not counted\n")
    (repo / ".claude" / "worktrees" / "x").mkdir(parents=True)
    (repo / ".claude" / "worktrees" / "x" / "inside.txt").write_text("another checkout\n")
    change = await compare(before)
    assert change is not None
    assert summary_line(change) == "📝 3 files changed, +3 −2"
    assert (repo / ".git" / "index").read_bytes() == index
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == " M a.txt\n D gone.txt\n"


async def test_a_work_tree_with_too_much_untracked_data_is_not_snapshotted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "r")
    for n in range(4):
        (repo / f"junk{n}.bin").write_bytes(b"x" * 10)
    monkeypatch.setattr(diff, "MAX_UNTRACKED_FILES", 3)
    assert await snapshot(repo) is None
    monkeypatch.setattr(diff, "MAX_UNTRACKED_FILES", 4)
    monkeypatch.setattr(diff, "MAX_UNTRACKED_BYTES", 39)
    assert await snapshot(repo) is None
    monkeypatch.setattr(diff, "MAX_UNTRACKED_BYTES", 40)
    assert await snapshot(repo) is not None
