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
from bot.sessions.keys import ChatKey
from bot.sessions.manager import SessionManager
from bot.security.safe_files import NotARegularFile, looks_secret, open_beneath, read_descriptor
from bot.sessions.session import Turn
from bot.turns.gather import Gatherer, Slot
from bot.turns.scheduler import TurnScheduler
from bot.util.paths import PathRefused, is_inside, resolve_user_path

log = logging.getLogger(__name__)

MAX_SEND_BYTES = 50 * 1024 * 1024  # the Bot API's upload limit
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


def read_for_sending(
    current: Path, argument: str, roots: list[Path], max_bytes: int = MAX_SEND_BYTES, *, refuse_secrets: bool = False
) -> tuple[str, bytes]:
    """The name and bytes of a file to send to the chat; PathRefused (one sentence) for anything else.

    `refuse_secrets` (Claude's send_file): no hidden file, nothing under a hidden directory, no
    name that looks like a key or credentials; the user's own /file may fetch those explicitly.
    """
    if not argument.strip():
        raise PathRefused("Give the file's path, for example /file report.pdf.")
    path = resolve_user_path(current, argument, roots)
    root = max((r for r in roots if is_inside(path, [r])), key=lambda r: len(r.parts))
    if refuse_secrets and looks_secret(path.relative_to(root)):
        raise PathRefused(f"{path.name} is hidden or looks like it holds secrets; only the user can fetch it, with /file.")
    try:
        fd = open_beneath(root, path)
    except FileNotFoundError:
        raise PathRefused(f"{path} does not exist.") from None
    except NotARegularFile:
        raise PathRefused(f"{path} is not a file.") from None
    except OSError as exc:  # ELOOP: a symlink appeared on the way after the path was checked
        raise PathRefused(f"{path} cannot be read ({exc.strerror or exc}).") from None
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise PathRefused(f"{path.name} is {megabytes(size)}; Telegram takes files up to {megabytes(max_bytes)}.")
        if size == 0:
            raise PathRefused(f"{path.name} is empty, and Telegram does not take empty files.")
        return path.name, read_descriptor(fd, size)
    except OSError as exc:
        raise PathRefused(f"{path} cannot be read ({exc.strerror or exc}).") from None
    finally:
        os.close(fd)


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


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
    scheduler: TurnScheduler
    outboxes: ChatOutbox
    roots: list[Path]
    max_upload_bytes: int
    gather: Gatherer
    give: Callable[[int], None] | None = None  # an upload becomes the box user's (bot/confine/box.py Box.give)

    async def receive(self, turn: Turn, upload: Upload, slot: Slot | None = None) -> None:
        """Save the upload in the chat's directory and run the turn with a note about it (caption = prompt).

        With a ``slot`` (an album's file) the turn joins its album's turn instead of running alone.
        """
        ready: Turn | None = None
        try:
            ready = await self._receive(turn, upload)
        finally:
            if slot is not None:
                self.gather.fill(slot, ready)
        if ready is not None and slot is None:
            await self.scheduler.submit(await self.manager.for_chat(turn.key, turn.chat_title), ready)

    async def _receive(self, turn: Turn, upload: Upload) -> Turn | None:
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
        note = f"[The user sent a file, saved as ./{path.name} ({writer.size} bytes)]"
        turn.prompt = f"{turn.prompt}\n\n{note}" if turn.prompt else note
        if upload.image_type:
            turn.images.append((upload.image_type, await asyncio.to_thread(path.read_bytes)))
        return turn

    async def send(self, key: ChatKey, argument: str, reply_to: int | None = None) -> str | None:
        """`/file`: send a file from inside the allowed directories (PathRefused if it may not); a sentence if Telegram refused it."""
        session = await self.manager.for_chat(key)
        name, data = await asyncio.to_thread(read_for_sending, session.working_dir, argument, self.roots)
        if await self.outboxes.send_document(key, name, data, reply_to=reply_to) is None:
            return f"Telegram did not accept {name}; please try again."
        return None

    async def _say(self, turn: Turn, text: str) -> None:
        await self.outboxes.send_text(turn.key, text, reply_to=turn.reply_to)

