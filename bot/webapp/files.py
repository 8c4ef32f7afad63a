"""The chat's files, read-only, inside its directory: a listing or a file's highlighted lines.

Every path is walked from the chat's directory one component at a time with O_NOFOLLOW (openat, as
bot/security/safe_files.py opens a file for /file), so neither `..` nor a symlink leads out of it; a
symlink is listed as one and never followed. Hidden files and directories, and names that look like
they hold secrets, are listed but not shown: the page never carries a key (the chat's /file fetches one).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from bot.security.safe_files import looks_secret, read_descriptor
from bot.webapp.auth import Refusal
from bot.webapp.highlight import highlight

MAX_BYTES = 1024 * 1024  # of a file shown; more is cut, with a note
MAX_ENTRIES = 2000  # of a directory listed


def _parts(relative: str) -> tuple[str, ...]:
    if "\0" in relative or relative.startswith("/"):
        raise Refusal("That path is not inside this chat's directory.", 400)
    parts = tuple(part for part in PurePosixPath(relative).parts if part not in ("", "."))
    if ".." in parts:
        raise Refusal("That path is not inside this chat's directory.", 400)
    return parts


def _walk(root: Path, parts: tuple[str, ...]) -> int:
    """A descriptor of root/parts, no symlink followed on the way (O_PATH-free: read-only opens)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        if not parts:
            return os.dup(fd)
        # O_NONBLOCK: a FIFO planted here must not hang the bot; it is refused by its type below.
        return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
    finally:
        os.close(fd)


def browse(root: Path, relative: str) -> dict[str, Any]:
    """What root/relative is (blocking: run it in a thread)."""
    parts = _parts(relative)
    shown = "/".join(parts)
    if parts and looks_secret(PurePosixPath(*parts)):
        raise Refusal(f"{shown} is hidden or looks like it holds secrets, so it is not shown here; fetch it in the chat with /file.", 403)
    try:
        fd = _walk(root, parts)
    except FileNotFoundError:
        raise Refusal(f"{shown} is not there (any more).", 404) from None
    except OSError as exc:  # ELOOP: a symlink on the way; ENOTDIR: a file where a directory was
        raise Refusal(f"{shown} cannot be opened here ({exc.strerror or exc}); symlinks are not followed.", 403) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            return {"kind": "dir", "path": shown, "entries": _entries(fd)}
        if not stat.S_ISREG(mode):
            raise Refusal(f"{shown} is not a regular file.", 403)
        return {"kind": "file", "path": shown, **_content(shown, fd)}
    finally:
        os.close(fd)


def _entries(fd: int) -> list[dict[str, Any]]:
    entries = []
    with os.scandir(fd) as listing:
        for entry in listing:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            kind = "link" if stat.S_ISLNK(info.st_mode) else "dir" if stat.S_ISDIR(info.st_mode) else "file"
            if kind == "file" and not stat.S_ISREG(info.st_mode):
                kind = "other"
            entries.append({"name": entry.name, "kind": kind, "size": info.st_size if kind == "file" else None,
                            "hidden": looks_secret(PurePosixPath(entry.name))})
            if len(entries) >= MAX_ENTRIES:
                break
    return sorted(entries, key=lambda e: (e["kind"] != "dir", e["name"].lower()))


def _content(path: str, fd: int) -> dict[str, Any]:
    size = os.fstat(fd).st_size
    data = read_descriptor(fd, min(size, MAX_BYTES))
    if b"\0" in data[:8192]:
        return {"size": size, "binary": True, "lines": [], "note": f"A binary file of {size} bytes: its content is not shown."}
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    note = f"Only the first {MAX_BYTES // 1024} KB of {size} bytes are shown." if size > MAX_BYTES else None
    return {"size": size, "binary": False, "lines": highlight(path, lines), "note": note}
