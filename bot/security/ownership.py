"""Trusting SESSION_DIR: it and every file the bot reads back from it belong to the bot's user.

A session file says which conversation a chat resumes and which tools it may use without
asking; the links file (identity-map.json) which chats share one. A file someone else owns, or
that others may write, is not the bot's own record and is not believed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UntrustedFile(OSError):
    """A file in SESSION_DIR not owned by this user, writable by others, or not a plain file."""


def foreign_owner(path: Path) -> str | None:
    """One sentence if `path` exists and belongs to another user, else None."""
    try:
        owner = path.stat().st_uid
    except FileNotFoundError:
        return None
    if owner != os.geteuid():
        return f"SESSION_DIR {path} belongs to uid {owner}, not to the user running this (uid {os.geteuid()})"
    return None


def read_trusted(path: Path) -> bytes:
    """The bytes of `path`, opened without following a symlink, if this user owns it and nobody else may write it."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UntrustedFile(f"{path} is not a plain file")
        if info.st_uid != os.geteuid():
            raise UntrustedFile(f"{path} belongs to uid {info.st_uid}, not to this user")
        if info.st_mode & 0o022:
            raise UntrustedFile(f"{path} may be written by other users (mode {stat.S_IMODE(info.st_mode):o})")
        return handle.read()
