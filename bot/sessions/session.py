"""ClaudeSession: one conversation's state, persisted through the store (live turn state is the scheduler's)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.sessions.inbox import Accepted
from bot.sessions.keys import ChatKey
from bot.sessions.records import LastTurn, PastSession, SessionRecord, Totals
from bot.sessions.store import SessionStore

HISTORY_LIMIT = 50
DAYS_KEPT = 62  # per-day usage older than this is dropped (all-time totals stay in `totals`)


def utc_day(timestamp: float | None = None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if timestamp is None else timestamp))


@dataclass
class Turn:
    """One user message waiting for (or getting) Claude's answer."""

    key: ChatKey  # the chat (and topic) that asked: the answer goes back there
    prompt: str
    reply_to: int | None = None
    user_id: int | None = None
    user_name: str = ""
    chat_title: str = ""
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (media type, data)
    id: int = 0
    queued_message_id: int | None = None
    cancelled: bool = False
    # The accepted messages this turn answers (bot.sessions.inbox): settled once it is answered.
    inbox: list[Accepted] = field(default_factory=list)
    command: bool = False  # a Claude Code slash command: sent exactly as typed, nothing put before it
    # The turns this one holds when several messages went to Claude as one (a paste, an album, a
    # queue batch), in order; empty when it is one message.
    merged: list[Turn] = field(default_factory=list)


@dataclass
class ClaudeSession:
    record: SessionRecord
    store: SessionStore
    # Bumped by /new and /resume, so a turn that was running then cannot pull the chat back.
    conversation_epoch: int = 0

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def session_id(self) -> str | None:
        return self.record.session_id

    @property
    def working_dir(self) -> Path:
        return Path(self.record.working_dir)

    def save(self) -> None:
        self.store.save_soon(self.record)

    def touch(self) -> None:
        self.record.last_activity = time.time()
        self.save()

    def idle_seconds(self, now: float | None = None) -> float:
        return (now or time.time()) - self.record.last_activity

    def remember(self, session_id: str) -> None:
        """Add a conversation to this session's history (newest first) without switching to it."""
        record = self.record
        if all(p.session_id != session_id for p in record.history):
            record.history.insert(0, PastSession(session_id=session_id, working_dir=record.working_dir))
            del record.history[HISTORY_LIMIT:]
            self.save()

    def _remember_current(self) -> None:
        if self.record.session_id:
            self.remember(self.record.session_id)

    def start_new_conversation(self) -> str | None:
        """Forget the current Claude session id (it stays in history). Returns the old id."""
        old = self.record.session_id
        self._remember_current()
        self.conversation_epoch += 1
        self.record.session_id = None
        self.record.session_cost_seen = 0.0
        self.touch()
        return old

    def switch_to(self, session_id: str, title: str = "", working_dir: str | None = None) -> None:
        """Make an earlier (or external) Claude conversation this session's current one."""
        if session_id == self.record.session_id:
            return
        self._remember_current()
        self.conversation_epoch += 1
        self.record.history = [p for p in self.record.history if p.session_id != session_id]
        self.record.session_id = session_id
        self.record.session_cost_seen = 0.0
        if working_dir and Path(working_dir).is_dir():
            self.record.working_dir = working_dir
        self.touch()

    def set_working_dir(self, path: Path) -> None:
        self.record.working_dir = str(path)
        self.touch()

    def remember_claude_commands(self, slash_commands: list[str] | None, skills: list[str] | None) -> None:
        """What a turn's init message listed for the session's directory (bot.features.claude_commands reads it)."""
        if slash_commands is None:
            return
        record = self.record
        seen = (record.working_dir, sorted(slash_commands), sorted(skills or []))
        if (record.claude_commands_dir, sorted(record.claude_commands), sorted(record.claude_skills)) != seen:
            record.claude_commands_dir, record.claude_commands, record.claude_skills = seen[0], list(slash_commands), list(skills or [])
            self.save()

    def record_result(
        self,
        *,
        session_id: str | None,
        cumulative_cost: float | None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        context_tokens: int = 0,
        context_window: int = 0,
        duration_ms: int = 0,
    ) -> None:
        """Store what a finished turn reported: its session id at once (kill -9 safety) and its costs."""
        record = self.record
        if session_id and session_id != record.session_id:
            if record.session_id:
                self._remember_current()
            record.session_id = session_id
            record.session_cost_seen = 0.0
        # The CLI reports the session's running cost; a turn costs the difference.
        cost = 0.0
        if cumulative_cost is not None:
            cost = cumulative_cost - record.session_cost_seen
            if cost < 0:
                cost = cumulative_cost
            record.session_cost_seen = cumulative_cost
        record.totals.turns += 1
        record.totals.input_tokens += input_tokens
        record.totals.output_tokens += output_tokens
        record.totals.cost_usd += cost
        day = record.daily_usage.setdefault(utc_day(), Totals())
        day.turns += 1
        day.input_tokens += input_tokens
        day.output_tokens += output_tokens
        day.cost_usd += cost
        oldest = utc_day(time.time() - DAYS_KEPT * 86400)
        for old in [d for d in record.daily_usage if d < oldest]:
            del record.daily_usage[old]
        record.last_turn = LastTurn(
            cost_usd=cost,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            context_tokens=context_tokens,
            context_window=context_window,
            duration_ms=duration_ms,
        )
        self.touch()
