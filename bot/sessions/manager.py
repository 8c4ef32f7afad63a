"""SessionManager: finds (lazily loading or creating) the ClaudeSession a chat talks to."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from collections.abc import Awaitable
from typing import Protocol

from bot.sessions.keys import ChatKey
from bot.sessions.records import SessionRecord
from bot.sessions.session import ClaudeSession
from bot.sessions.store import SessionStore
from bot.util.paths import is_inside

log = logging.getLogger(__name__)


class Route(Protocol):
    """Where a chat's messages go: its own session, or a shared one (a link or a chat group)."""

    def session_name(self, key: ChatKey) -> str: ...

    def seed_from(self, name: str) -> ChatKey | None:
        """For a shared session that has no file yet: the member whose conversation it starts from."""
        ...


class OwnSessions:
    """Every chat in its own session (no links)."""

    def session_name(self, key: ChatKey) -> str:
        return str(key)

    def seed_from(self, name: str) -> ChatKey | None:
        return None


class SessionManager:
    def __init__(
        self, store: SessionStore, default_working_dir: Path, route: Route | None = None, allowed_paths: list[Path] | None = None
    ) -> None:
        self.store = store
        self.default_working_dir = default_working_dir
        self.allowed_paths = allowed_paths or [default_working_dir]
        self.route: Route = route or OwnSessions()
        self._sessions: dict[str, ClaudeSession] = {}
        self._loading: dict[str, asyncio.Future[ClaudeSession]] = {}
        self._known: set[str] = set()

    def restore(self) -> int:
        """Index the stored sessions (file names only: no file is parsed, no CLI started)."""
        self.store.prepare()
        self._known = set(self.store.names())
        return len(self._known)

    async def load_all(self) -> list[ClaudeSession]:
        """Every session the bot holds, loading the ones not yet in memory."""
        for name in sorted(self._known - self._sessions.keys()):
            await self.by_name(name)
        return list(self._sessions.values())

    @property
    def count(self) -> int:
        return len(self._known | self._sessions.keys())

    def loaded(self) -> list[ClaudeSession]:
        return list(self._sessions.values())

    async def for_chat(self, key: ChatKey, title: str = "") -> ClaudeSession:
        name = self.route.session_name(key)
        session = await self.by_name(name, key)
        if title and name == str(key) and session.record.title != title:
            session.record.title = title
            session.save()
        return session

    async def title_of(self, key: ChatKey) -> str:
        """The chat's title as its own session recorded it; "" when the bot holds no session for it
        (looking it up never creates one)."""
        name = str(key)
        if name not in self._sessions and name not in self._known:
            return ""
        return (await self.by_name(name, key)).record.title

    async def existing(self, key: ChatKey) -> ClaudeSession | None:
        """The chat's session if the bot holds one (looking it up never creates one)."""
        name = self.route.session_name(key)
        if name not in self._sessions and name not in self._known:
            return None
        return await self.by_name(name, key)

    async def own_session(self, key: ChatKey) -> ClaudeSession:
        """The chat's own session, whether or not it is currently linked."""
        return await self.by_name(str(key), key)

    async def by_name(self, name: str, key: ChatKey | None = None) -> ClaudeSession:
        session = self._sessions.get(name)
        if session is not None:
            return session
        pending = self._loading.get(name)
        if pending is not None:
            return await pending
        future: asyncio.Future[ClaudeSession] = asyncio.get_running_loop().create_future()
        self._loading[name] = future
        try:
            session = await self._load_or_create(name, key)
            self._sessions[name] = session
            self._known.add(name)
            future.set_result(session)
            return session
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            del self._loading[name]

    async def _load_or_create(self, name: str, key: ChatKey | None) -> ClaudeSession:
        record = await self.store.load(name)
        if record is None:
            record = await self._new_record(name, key)
            session = ClaudeSession(record=record, store=self.store)
            session.save()
            return session
        session = ClaudeSession(record=record, store=self.store)
        if not is_inside(Path(record.working_dir).resolve(), self.allowed_paths):
            # ALLOWED_PATHS changed since the chat chose its directory: the conversation resumes in the default one.
            log.warning("%s worked in %s, outside ALLOWED_PATHS now; moved to %s", name, record.working_dir, self.default_working_dir)
            record.working_dir = str(self.default_working_dir)
            session.save()
        return session

    async def _new_record(self, name: str, key: ChatKey | None) -> SessionRecord:
        seed_key = self.route.seed_from(name)
        if seed_key is not None:
            # A new shared session continues the first member's conversation.
            seed = await self.own_session(seed_key)
            return SessionRecord(
                name=name,
                session_id=seed.record.session_id,
                working_dir=seed.record.working_dir,
                permission_mode=seed.record.permission_mode,
                model=seed.record.model,
            )
        own_key = key if key is not None and name == str(key) else None
        return SessionRecord(
            name=name,
            chat_id=own_key.chat_id if own_key else None,
            thread_id=own_key.thread_id if own_key else None,
            working_dir=str(self.default_working_dir),
        )

    def owner_of(self, session_id: str) -> ClaudeSession | None:
        """The loaded session whose current conversation is `session_id`, if any."""
        for session in self._sessions.values():
            if session.record.session_id == session_id:
                return session
        return None

    async def idle(
        self, max_idle_seconds: float, busy: Callable[[ClaudeSession], bool], only: set[str] | None = None
    ) -> list[ClaudeSession]:
        """Sessions idle longer than `max_idle_seconds` that nothing uses (not `busy`: running, queued; not linked).
        `only`: the names the asker may see; others are left alone."""
        now = time.time()
        return [
            session for session in await self.load_all()
            if (only is None or session.name in only)
            and not (busy(session) or session.idle_seconds(now) <= max_idle_seconds)
            and not self._in_use_by_links(session)
        ]

    async def cleanup_idle(
        self, max_idle_seconds: float, busy: Callable[[ClaudeSession], bool], only: set[str] | None = None
    ) -> int:
        """Remove sessions idle longer than `max_idle_seconds` (memory and file); `busy` ones (running, queued) stay."""
        idle = await self.idle(max_idle_seconds, busy, only)
        for session in idle:
            await self.remove(session)
        return len(idle)

    def _in_use_by_links(self, session: ClaudeSession) -> bool:
        """A live link's shared session, or the own session a linked chat returns to on unlink."""
        record = session.record
        if record.chat_id is None:
            return self.route.seed_from(session.name) is not None
        return self.route.session_name(ChatKey(record.chat_id, record.thread_id)) != session.name

    async def move(
        self, old_name: str, key: ChatKey, release: Callable[[ClaudeSession], Awaitable[None]]
    ) -> ClaudeSession | None:
        """Rename a chat's own session to ``key`` (its chat got a new id); None when there is none,
        or the new chat already has its own (then nothing is overwritten). ``release`` runs first
        (what is registered under the old name lets go of it)."""
        new_name = str(key)
        if old_name not in self._known | self._sessions.keys() or new_name in self._known | self._sessions.keys():
            return None
        session = await self.by_name(old_name)
        await release(session)
        record = session.record
        record.name, record.chat_id, record.thread_id = new_name, key.chat_id, key.thread_id
        del self._sessions[old_name]
        self._known.discard(old_name)
        self._sessions[new_name] = session
        self._known.add(new_name)
        session.save()
        await self.store.flush()  # the new file is on disk before the old one goes
        await self.store.delete(old_name)
        return session

    async def remove(self, session: ClaudeSession) -> None:
        self._sessions.pop(session.name, None)
        self._known.discard(session.name)
        await self.store.delete(session.name)
