"""Files in and out of a chat's working directory.

A file sent to the chat is saved under a sanitised name in the session's directory (never
anywhere else, never over an existing file) and Claude is told about it in the turn; `/file`
and Claude's `send_file` tool send a file from inside the allowed directories back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bot.chat import ChatOutbox
from bot.errors import Refused
from bot.sessions.keys import ChatKey
from bot.sessions.manager import SessionManager
from bot.security.safe_files import megabytes, read_for_sending
from bot.sessions.session import Turn
from bot.turns.addressing import file_note
from bot.util.paths import is_inside

log = logging.getLogger(__name__)

NAME_BYTES = 120
_UNSAFE = re.compile(r"[^\w.\-+=@,()\[\] ]")


def safe_filename(name: str | None, fallback: str) -> str:
    """A plain file name: no directories, no leading dots or dashes (hidden files, `..`, `-rf`), no control characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name)
    name = " ".join(name.split()).lstrip(". -").rstrip(". ")
    if not name.strip("_"):
        name = fallback
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    suffix = ("." + suffix) if suffix else ""
    while len((stem + suffix).encode()) > NAME_BYTES:
        if len(stem) > 1:
            stem = stem[:-1]
        else:
            suffix = suffix[:-1]
    return stem + suffix


def _numbered(name: str, n: int) -> str:
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        return f"{name}-{n}"
    return f"{stem}-{n}.{suffix}"


# Files Claude Code reads as instructions, settings, MCP servers or hooks: an upload never becomes one.
CLAUDE_CONFIG_NAMES = frozenset({"claude.md", "claude.local.md", ".mcp.json"})
CLAUDE_CONFIG_DIR = ".claude"


def claude_reads(name: str) -> bool:
    return name.lower() in CLAUDE_CONFIG_NAMES or name.lower() == CLAUDE_CONFIG_DIR


def under_claude_config(directory: Path) -> bool:
    return any(part.lower() == CLAUDE_CONFIG_DIR for part in directory.parts)


def create_upload(directory: Path, name: str, give: Callable[[int], None] | None = None) -> tuple[Path, BinaryIO]:
    """A new, empty 0600 file in `directory`; a taken name gets a numbered suffix (report-2.pdf).
    `give` hands the open file to the user Claude Code runs as (bot/confine/), so Claude can read it."""
    for n in range(1, 1000):
        path = directory / (name if n == 1 else _numbered(name, n))
        try:
            # O_EXCL never overwrites; O_NOFOLLOW never follows a symlink planted under that name.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue
        if give is not None:
            give(fd)
        return path, os.fdopen(fd, "wb")
    raise FileExistsError(f"too many files named like {name}")


class NotDelivered(Refused):
    """Telegram did not take a file the bot sent."""


class TooLarge(Exception):
    pass


class BoundedWriter:
    """Writes the download's chunks straight to the file, and stops once it is larger than allowed."""

    def __init__(self, file: BinaryIO, limit: int) -> None:
        self.file = file
        self.limit = limit
        self.size = 0

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > self.limit:
            raise TooLarge(self.size)
        return self.file.write(chunk)

    def flush(self) -> None:
        self.file.flush()


@dataclass
class Upload:
    """A file the user sent: Telegram's name for it, its size if known, and how to download it into a file."""

    name: str | None
    size: int | None
    download: Callable[[BoundedWriter], Awaitable[None]]
    image_type: str | None = None  # a photo also goes to Claude as an image of this media type


@dataclass
class FileTransfers:
    manager: SessionManager
    outboxes: ChatOutbox
    roots: list[Path]
    max_upload_bytes: int
    give: Callable[[int], None] | None = None  # an upload becomes the box user's (bot/confine/box.py Box.give)

    async def receive(self, turn: Turn, upload: Upload) -> Turn | None:
        """Save the upload in the chat's directory: the turn with a note about it (caption = prompt), or
        None once the chat was told why not (too large, no place for it, the download failed)."""
        session = await self.manager.for_chat(turn.key, turn.chat_title)
        too_large = f"the bot takes files up to {megabytes(self.max_upload_bytes)}"
        if upload.size is not None and upload.size > self.max_upload_bytes:
            await self._say(turn, f"That file is {megabytes(upload.size)}; {too_large}.")
            return None
        directory = session.working_dir.resolve()
        if not is_inside(directory, self.roots):  # ALLOWED_PATHS may have changed since the chat chose it
            await self._say(turn, f"This chat's directory {directory} is outside the allowed directories; /cd to another one first.")
            return None
        if under_claude_config(directory):
            await self._say(turn, f"This chat's directory {directory} holds Claude Code's settings; /cd elsewhere to send files.")
            return None
        fallback = time.strftime("photo-%Y%m%d-%H%M%S.jpg" if upload.image_type else "file-%Y%m%d-%H%M%S")
        wanted = safe_filename(upload.name, fallback)
        name = f"uploaded-{wanted}" if claude_reads(wanted) else wanted
        try:
            path, file = await asyncio.to_thread(create_upload, directory, name, self.give)
        except OSError as exc:
            await self._say(turn, f"I could not save that file in {directory} ({exc.strerror or exc}).")
            return None
        writer = BoundedWriter(file, self.max_upload_bytes)
        try:
            with file:
                await upload.download(writer)
        except TooLarge:
            path.unlink(missing_ok=True)
            await self._say(turn, f"That file is too large; {too_large}.")
            return None
        except Exception as exc:
            path.unlink(missing_ok=True)
            log.warning("download of %s for %s failed: %s", upload.name, turn.key, exc)
            await self._say(turn, "I could not download that file from Telegram; please send it again.")
            return None
        if name != wanted:
            await self._say(turn, f"{wanted} is a file Claude Code reads as instructions or settings, so it was saved as {path.name}.")
        note = file_note(path.name, writer.size)
        turn.prompt = f"{turn.prompt}\n\n{note}" if turn.prompt else note
        if upload.image_type:
            turn.images.append((upload.image_type, await asyncio.to_thread(path.read_bytes)))
        return turn

    async def send(self, key: ChatKey, argument: str, reply_to: int | None = None) -> None:
        """`/file`: send a file from inside the allowed directories; PathRefused if it may not, NotDelivered
        if Telegram refused it."""
        session = await self.manager.for_chat(key)
        name, data = await asyncio.to_thread(read_for_sending, session.working_dir, argument, self.roots)
        if await self.outboxes.send_document(key, name, data, reply_to=reply_to) is None:
            raise NotDelivered(f"Telegram did not accept {name}; please try again.")

    async def _say(self, turn: Turn, text: str) -> None:
        await self.outboxes.send_text(turn.key, text, reply_to=turn.reply_to)

