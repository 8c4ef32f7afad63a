"""The inbox: every message accepted from Telegram, on disk before Telegram is told it arrived.

One append-only JSON-lines file (SESSION_DIR/inbox.jsonl). A message is appended and fsynced
when it is accepted; later lines record what happened to it (its turn started, its final text,
its notices) and the last one says it is settled (answered, cancelled or given up). After a
start, every message that is not settled is carried on from what its lines say, so nothing the
bot accepted is lost or answered twice, whatever killed the process.

A torn last line (a kill in the middle of a write) is ignored: the message it would have
recorded was never confirmed to Telegram, which sends it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.sessions.keys import ChatKey
from bot.sessions.records import RecordedAnswer
from bot.util.files import write_text_atomic

log = logging.getLogger(__name__)

INBOX_FILE = "inbox.jsonl"
COMPACT_BYTES = 1 << 20  # rewrite the file (keeping what is pending) after this much was appended


class InboxWriteFailed(Exception):
    """The disk refused a write (full, read-only): the message was not accepted."""


@dataclass
class Accepted:
    """An update the bot accepted (Telegram's own JSON, so it is handled after a restart exactly as
    it was at first), and what has happened to it since."""

    update_id: int
    update: dict[str, Any]
    key: ChatKey  # the chat (and topic) it came from
    message_id: int
    seq: int = 0  # order of acceptance across the whole bot; also its turn's id
    edit: bool = False  # an edit of message `message_id`: an entry of its own, never the message's
    runs: int = 0  # how many times its turn was started
    batch: str | None = None  # the entry whose turn it last went to Claude with (the first of that turn)
    answer: RecordedAnswer | None = None  # how the turn ended, kept before it is shown
    notice_id: int | None = None  # its "queued" notice
    progress_id: int | None = None  # its turn's progress message
    prompt: str | None = None  # the text as last edited while it waited in the queue
    claimed: bool = field(default=False, compare=False)  # a turn took it and settles it once answered
    recovered: bool = field(default=False, compare=False)  # accepted before the last start, carried on since

    @property
    def id(self) -> str:
        # An edit is journaled beside the message it edits (it changes that entry's prompt), never over it.
        return f"{self.key}:{self.message_id}" + (f":edit{self.update_id}" if self.edit else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "update_id": self.update_id,
            "update": self.update,
            "key": str(self.key),
            "message_id": self.message_id,
            "seq": self.seq,
            **({"edit": True} if self.edit else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Accepted:
        return cls(
            update_id=int(data["update_id"]),
            update=dict(data["update"]),
            key=ChatKey.parse(data["key"]),
            message_id=int(data["message_id"]),
            seq=int(data["seq"]),
            edit=bool(data.get("edit", False)),
        )


# What a later line may change on a pending message, by line type.
_FIELDS = {"notice": "notice_id", "progress": "progress_id", "answer": "answer", "prompt": "prompt"}


class Inbox:
    def __init__(self, directory: Path) -> None:
        self.path = directory / INBOX_FILE
        self._pending: dict[str, Accepted] = {}
        self._seq = 0
        self._lock = asyncio.Lock()
        self._appended_bytes = 0
        self._kept_bytes = 0  # the file's size at its last rewrite
        self._rewriting = False

    # -- start-up ---------------------------------------------------------------------------

    def load(self) -> list[Accepted]:
        """Read the file, keep what is not settled (oldest first), and rewrite the file with just that."""
        self._pending.clear()
        try:
            with open(self.path, "rb") as handle:
                lines = handle.read().splitlines()
        except FileNotFoundError:
            lines = []
        for number, raw in enumerate(lines, 1):
            try:
                self._apply(json.loads(raw))
            except (ValueError, KeyError, TypeError) as exc:
                if number < len(lines):  # only the last line can be torn by a kill
                    log.warning("inbox line %d unreadable (%s); skipped", number, exc)
        self._seq = max([self._seq, *(entry.seq for entry in self._pending.values())])
        for entry in self._pending.values():
            entry.recovered = True
        self._rewrite()
        return self.pending()

    def pending(self) -> list[Accepted]:
        return sorted(self._pending.values(), key=lambda entry: entry.seq)

    def get(self, entry_id: str) -> Accepted | None:
        return self._pending.get(entry_id)

    def _apply(self, line: dict[str, Any]) -> None:
        kind = line["t"]
        if kind == "in":
            entry = Accepted.from_json(line)
            self._pending[entry.id] = entry
            self._seq = max(self._seq, entry.seq)
            return
        entry = self._pending.get(line["id"])
        if entry is None:
            return
        if kind == "run":
            entry.runs += 1
            entry.batch = line.get("b", entry.batch)
        elif kind == "done":
            del self._pending[entry.id]
        elif kind == "answer":
            entry.answer = RecordedAnswer.model_validate(line["v"])
        elif kind in _FIELDS:
            setattr(entry, _FIELDS[kind], line["v"])

    def _rewrite(self) -> None:
        lines = []
        for entry in self.pending():
            lines.append(_dump({"t": "in", **entry.to_json()}))
            lines += [_dump({"t": "run", "id": entry.id, **({"b": entry.batch} if entry.batch else {})})] * entry.runs
            for kind, name in _FIELDS.items():
                if (value := getattr(entry, name)) is not None:
                    lines.append(_dump({"t": kind, "id": entry.id, "v": _stored(value)}))
        text = "".join(lines)
        write_text_atomic(self.path, text)
        self._appended_bytes = 0
        self._kept_bytes = len(text.encode())

    # -- while running ----------------------------------------------------------------------

    async def accept(self, entry: Accepted) -> Accepted:
        """Record a new message durably; it gets its place in the bot-wide order. Raises InboxWriteFailed."""
        async with self._lock:
            entry.seq = self._seq + 1
            await self._append({"t": "in", **entry.to_json()})
            self._seq = entry.seq
            self._pending[entry.id] = entry
        return entry

    async def started(self, entry: Accepted, batch: str | None = None) -> int:
        """Its turn starts (again), with the messages of entry ``batch``'s turn: how many times it has now started."""
        await self._record({"t": "run", "id": entry.id, **({"b": batch} if batch else {})})
        entry.runs += 1
        entry.batch = batch
        return entry.runs

    async def note(self, entry: Accepted, kind: str, value: Any) -> None:
        """Remember a notice or progress message id, the final answer, or an edited prompt."""
        await self._record({"t": kind, "id": entry.id, "v": _stored(value)})
        setattr(entry, _FIELDS[kind], value)

    async def settle(self, entry: Accepted) -> None:
        """Answered, cancelled or given up: never carried on again."""
        if self._pending.pop(entry.id, None) is None:
            return
        if self._rewriting:  # the file is being replaced: the line goes into the new one, after it
            await self._record({"t": "done", "id": entry.id})
        else:
            # At once, in the loop, not behind another entry's note (the lock) nor an fsync: an answer has
            # just been shown, and a kill between that and this line would show it again after the start.
            # A kill -9 keeps what was written (a power cut could lose it: then the answer is shown twice,
            # never lost). Its own entry's earlier lines are on disk already; a later note of it is ignored.
            await self._append({"t": "done", "id": entry.id}, synced=False)
        # Compact while busy too: once what was appended since the last rewrite outweighs both the bound
        # and what a rewrite keeps (the pending entries), so a bot that is never idle keeps a small file.
        if self._appended_bytes > max(COMPACT_BYTES, self._kept_bytes):
            async with self._lock:
                self._rewriting = True
                try:
                    await asyncio.to_thread(self._rewrite)
                finally:
                    self._rewriting = False

    async def _record(self, line: dict[str, Any]) -> None:
        async with self._lock:
            await self._append(line)

    async def _append(self, line: dict[str, Any], *, synced: bool = True) -> None:
        """One line at the file's end: fsynced in a worker thread, or (``synced`` False) written at once."""
        data = _dump(line).encode()
        try:
            if synced:
                await asyncio.to_thread(_append_to, self.path, data)
            else:
                _append_to(self.path, data, sync=False)
        except OSError as exc:
            raise InboxWriteFailed(str(exc)) from exc
        self._appended_bytes += len(data)


def _stored(value: Any) -> Any:
    """A line's value as JSON data (a recorded answer is a model)."""
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _dump(line: dict[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"


def _append_to(path: Path, data: bytes, *, sync: bool = True) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        written = os.write(fd, data)
        if written != len(data):  # a short write on a full disk: undo it, the caller hears why
            os.ftruncate(fd, os.fstat(fd).st_size - written)
            raise OSError("short write (disk full?)")
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
