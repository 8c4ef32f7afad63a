"""bot/webapp/files.py: the chat's directory read-only; nothing outside it, no symlink followed, no secret shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.webapp.auth import Refusal
from bot.webapp.files import browse


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def f():\n    return '<b>'\n")
    (root / ".env").write_text("TOKEN=secret\n")
    (root / "blob.bin").write_bytes(b"\0\1\2")
    (tmp_path / "outside.txt").write_text("not the chat's\n")
    (root / "out").symlink_to(tmp_path / "outside.txt")
    (root / "outdir").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(root / "pipe")
    return root


def test_a_listing_and_a_file_with_its_highlighted_lines(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    listing = browse(root, "")
    assert [(e["name"], e["kind"], e["hidden"]) for e in listing["entries"]] == [
        ("src", "dir", False), (".env", "file", True), ("blob.bin", "file", False), ("out", "link", False),
        ("outdir", "link", False), ("pipe", "other", False),
    ]
    shown = browse(root, "src/app.py")
    assert shown["lines"][1] == '    <span class="k">return</span> <span class="s1">\'</span><span class="s1">&lt;b&gt;</span><span class="s1">\'</span>'
    assert browse(root, "./src/")["entries"][0]["name"] == "app.py"
    assert browse(root, "blob.bin")["binary"] is True


@pytest.mark.parametrize(
    ("path", "sentence"),
    [
        ("../outside.txt", "not inside this chat's directory"),
        ("/etc/passwd", "not inside this chat's directory"),
        ("out", "symlinks are not followed"),
        ("outdir/outside.txt", "symlinks are not followed"),
        (".env", "looks like it holds secrets"),
        ("src/.git/config", "looks like it holds secrets"),
        ("pipe", "not a regular file"),
        ("nothing.txt", "is not there"),
    ],
)
def test_what_is_outside_linked_secret_or_strange_is_refused_in_one_sentence(tmp_path: Path, path: str, sentence: str) -> None:
    root = _tree(tmp_path)
    with pytest.raises(Refusal, match=sentence):
        browse(root, path)
