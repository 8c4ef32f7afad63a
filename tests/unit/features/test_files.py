import os
from pathlib import Path

import pytest

from bot.features.files import create_upload, safe_filename
from bot.security.safe_files import read_for_sending
from bot.util.paths import PathRefused


@pytest.mark.parametrize(
    "name, expected",
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        (".bashrc", "bashrc"),
        ("..", "fallback"),
        ("...", "fallback"),
        ("-rf", "rf"),
        ("a\x00b\nc.txt", "a_b_c.txt"),
        ("evil\u202etxt.exe", "evil_txt.exe"),
        ("  spaced   out .txt ", "spaced out .txt"),
        (None, "fallback"),
        ("Отчёт 2024.docx", "Отчёт 2024.docx"),
    ],
)
def test_file_names_are_sanitised(name: str | None, expected: str) -> None:
    assert safe_filename(name, "fallback") == expected


def test_long_names_keep_their_extension() -> None:
    name = safe_filename("é" * 300 + ".tar", "x")
    assert name.endswith(".tar") and len(name.encode()) <= 120


def test_uploads_never_overwrite_or_follow_links(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "a.txt").write_text("old")
    (work / "link.txt").symlink_to(tmp_path / "outside" / "target.txt")

    def save(name: str) -> str:
        path, file = create_upload(work, name)
        file.close()
        assert path.stat().st_mode & 0o777 == 0o600
        return path.name

    assert save("a.txt") == "a-2.txt"
    assert save("a.txt") == "a-3.txt"
    assert save("link.txt") == "link-2.txt"
    assert save("README") == "README"
    assert save("README") == "README-2"
    assert (work / "a.txt").read_text() == "old" and not (tmp_path / "outside" / "target.txt").exists()


def test_files_to_send_stay_inside_the_roots(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "r.txt").write_bytes(b"data")
    (root / "empty").write_bytes(b"")
    (root / "big").write_bytes(b"x" * 11)
    (tmp_path / "secret").write_text("s")
    os.symlink(tmp_path / "secret", root / "sneaky")
    assert read_for_sending(root, "sub/r.txt", [root]) == ("r.txt", b"data")
    assert read_for_sending(root / "sub", str(root / "sub" / "r.txt"), [root]) == ("r.txt", b"data")
    for argument, reason in [
        ("../secret", "outside"),
        ("sneaky", "outside"),
        ("/etc/passwd", "outside"),
        ("sub", "not a file"),
        ("nothing", "does not exist"),
        ("empty", "empty"),
        ("big", "Telegram takes files up to"),
        ("", "Give the file's path"),
    ]:
        with pytest.raises(PathRefused, match=reason):
            read_for_sending(root, argument, [root], max_bytes=10)
