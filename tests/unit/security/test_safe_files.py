"""Files sent to the chat: no secrets from Claude, no symlink swapped in after the check."""

from __future__ import annotations

import os
from pathlib import Path, PurePath

import pytest

from bot.security.safe_files import read_for_sending
from bot.security.safe_files import looks_secret, open_beneath
from bot.util.paths import PathRefused


@pytest.mark.parametrize(
    "name, secret",
    [
        (".env", True), (".env.local", True), ("prod.env", True), ("server.PEM", True), ("tls.key", True),
        ("id_ed25519", True), ("id_rsa.pub", True), ("aws_credentials.json", True), ("credentials", True),
        (".git/config", True), ("src/.hidden/notes.txt", True), ("client_secret.json", True),
        ("report.pdf", False), ("src/main.py", False), ("keyboard.txt", False), ("environment.md", False),
    ],
)
def test_secret_looking_names(name: str, secret: bool) -> None:
    assert looks_secret(PurePath(name)) is secret


def test_send_file_refuses_secrets_but_file_may_fetch_them(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TOKEN=1")
    with pytest.raises(PathRefused, match="hidden or looks like it holds secrets"):
        read_for_sending(tmp_path, ".env", [tmp_path], refuse_secrets=True)
    (tmp_path / "innocent.txt").symlink_to(tmp_path / ".env")  # a link to it resolves to the secret
    with pytest.raises(PathRefused, match="hidden or looks like it holds secrets"):
        read_for_sending(tmp_path, "innocent.txt", [tmp_path], refuse_secrets=True)
    assert read_for_sending(tmp_path, ".env", [tmp_path]) == (".env", b"TOKEN=1")


def test_a_symlink_swapped_in_after_the_check_is_not_followed(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "dir").mkdir(parents=True)
    outside.mkdir()
    (outside / "f.txt").write_text("outside")
    checked = root / "dir" / "f.txt"  # what the path check saw (it did not exist yet, or was a plain file)
    (root / "dir").rmdir()
    (root / "dir").symlink_to(outside)  # swapped in between check and open
    with pytest.raises(OSError):
        open_beneath(root, checked)
    (root / "g.txt").symlink_to(outside / "f.txt")
    with pytest.raises(OSError):
        open_beneath(root, root / "g.txt")


def test_a_fifo_is_not_a_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(PathRefused, match="is not a file"):
        read_for_sending(tmp_path, "pipe", [tmp_path])
