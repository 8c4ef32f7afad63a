"""SESSION_DIR's files are believed only when they are this user's own private files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.security.ownership import UntrustedFile, foreign_owner, read_trusted
from bot.sessions.keys import ChatKey
from bot.sessions.links import LINKS_FILE, LinksFileError, LinkStore
from bot.sessions.records import SessionRecord
from bot.sessions.store import SessionStore


def test_read_trusted_refuses_writable_by_others_and_symlinks(tmp_path: Path) -> None:
    own = tmp_path / "own.json"
    own.write_text("{}")
    own.chmod(0o600)
    assert read_trusted(own) == b"{}"
    own.chmod(0o666)
    with pytest.raises(UntrustedFile, match="written by other users"):
        read_trusted(own)
    (tmp_path / "link.json").symlink_to(own)
    with pytest.raises(OSError):
        read_trusted(tmp_path / "link.json")


def test_foreign_owner(tmp_path: Path) -> None:
    assert foreign_owner(tmp_path) is None and foreign_owner(tmp_path / "missing") is None
    if os.geteuid() == 0:
        os.chown(tmp_path, 4242, 4242)
        problem = foreign_owner(tmp_path)
        assert problem is not None and "belongs to uid 4242" in problem


async def test_a_session_file_others_may_write_is_not_believed(tmp_path: Path) -> None:
    path = tmp_path / "5.json"
    path.write_text(SessionRecord(name="5", working_dir=str(tmp_path), session_id="planted").model_dump_json())
    path.chmod(0o666)
    store = SessionStore(tmp_path)
    assert await store.load("5") is None
    assert not path.exists()  # set aside, like a corrupt file


def test_a_links_file_others_may_write_is_not_believed(tmp_path: Path) -> None:
    links = LinkStore(tmp_path)
    links.create([ChatKey(1), ChatKey(2)])
    (tmp_path / LINKS_FILE).chmod(0o646)
    with pytest.raises(LinksFileError, match="does not trust it"):
        links.load()
