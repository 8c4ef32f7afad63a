"""The JSON store: one file per session in SESSION_DIR, debounced atomic writes.

Writes are coalesced per session: the first change schedules a write `debounce` seconds
later and later changes ride along, so a burst costs at most one write per second and a
new session id is on disk within that window. Every write goes to a temporary file that is
flushed, fsynced and renamed over the old one, so a `kill -9` never leaves half a file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from pathlib import Path

import aiofiles
import aiofiles.os
from pydantic import ValidationError

from bot.security.ownership import read_trusted
from bot.sessions.records import SessionRecord, load_record
from bot.util.files import ensure_private_dir, write_text_atomic_async

log = logging.getLogger(__name__)

SUFFIX = ".json"
CORRUPT_SUFFIX = ".corrupt"
# A chat key (`123`, `-100123_7`), a link (`link-<hex id>`) or a configured group (`group-<name>`);
# anything else in the directory (the links file, a user's notes) is not a session.
SESSION_NAME = re.compile(r"^(-?\d{1,20}(_\d{1,12})?|link-[0-9a-f]{1,32}|group-[A-Za-z0-9_.-]{1,64})$")


class SessionStore:
    def __init__(self, directory: Path, *, debounce: float = 1.0) -> None:
        self.directory = directory
        self.debounce = debounce
        self._pending: dict[str, SessionRecord] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._writing: dict[str, asyncio.Task[None]] = {}
        self.writes = 0  # counted for the benchmark's "writes per 100 updates"

    def prepare(self) -> None:
        ensure_private_dir(self.directory)

    def path(self, name: str) -> Path:
        return self.directory / f"{name}{SUFFIX}"

    def names(self) -> list[str]:
        """Every stored session name, from the directory listing alone (cheap even for 10,000 files)."""
        return [
            entry.name[: -len(SUFFIX)]
            for entry in os.scandir(self.directory)
            if entry.name.endswith(SUFFIX) and SESSION_NAME.match(entry.name[: -len(SUFFIX)]) and entry.is_file()
        ]

    async def load(self, name: str) -> SessionRecord | None:
        """The stored record, or None. A corrupt file is moved aside and the session starts fresh."""
        path = self.path(name)
        try:
            raw = (await asyncio.to_thread(read_trusted, path)).decode("utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:  # also a file of another user (UntrustedFile): not believed
            await self._quarantine(path, f"unreadable: {exc}")
            return None
        try:
            record = load_record(raw)  # a newer bot's file (NewerRecord) is left as it is and refused
        except ValidationError as exc:
            await self._quarantine(path, f"invalid JSON record: {exc.error_count()} error(s)")
            return None
        except ValueError as exc:
            await self._quarantine(path, f"invalid JSON record: {exc}")
            return None
        if record.name != name:
            record.name = name
        return record

    async def _quarantine(self, path: Path, reason: str) -> None:
        aside = path.with_name(f"{path.name}.{int(time.time())}{CORRUPT_SUFFIX}")
        try:
            await aiofiles.os.replace(path, aside)
        except OSError as exc:
            log.error("session file %s is %s and could not be moved aside: %s", path, reason, exc)
            return
        log.error("session file %s is %s; kept as %s, that chat starts fresh", path, reason, aside.name)

    def save_soon(self, record: SessionRecord) -> None:
        """Schedule a debounced write of `record` (the latest state wins)."""
        self._pending[record.name] = record
        if record.name not in self._timers:
            loop = asyncio.get_running_loop()
            self._timers[record.name] = loop.call_later(self.debounce, self._start_write, record.name)

    def _start_write(self, name: str) -> None:
        self._timers.pop(name, None)
        previous = self._writing.get(name)
        self._writing[name] = asyncio.ensure_future(self._write_after(previous, name))

    async def _write_after(self, previous: asyncio.Task[None] | None, name: str) -> None:
        if previous is not None:  # keep writes of one file in order
            await asyncio.shield(previous)
        record = self._pending.pop(name, None)
        if record is None:
            return
        record.saved_at = time.time()
        try:
            await write_text_atomic_async(self.path(name), record.model_dump_json(indent=1))
            self.writes += 1
        except OSError as exc:
            log.error("could not save session %s: %s (will retry)", name, exc)
            self._pending.setdefault(name, record)
            loop = asyncio.get_running_loop()
            self._timers.setdefault(name, loop.call_later(self.debounce * 5, self._start_write, name))

    async def flush(self) -> None:
        """Write everything pending now (shutdown, tests)."""
        for name in list(self._timers):
            self._timers.pop(name).cancel()
            self._start_write(name)
        for name in list(self._pending):
            if name not in self._writing or self._writing[name].done():
                self._start_write(name)
        if self._writing:
            await asyncio.gather(*self._writing.values(), return_exceptions=True)
        self._writing = {k: t for k, t in self._writing.items() if not t.done()}

    async def delete(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer:
            timer.cancel()
        self._pending.pop(name, None)
        task = self._writing.get(name)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        try:
            await aiofiles.os.remove(self.path(name))
        except FileNotFoundError:
            pass
