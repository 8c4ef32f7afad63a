"""After a restart, start Claude Code for the most recently active chats before they write.

A first message then answers as fast as a follow-up (no CLI start, no resume). Pre-starts run
one after another in the background and take only free places: no message waits for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.claude.runner import ClaudeRunner
from bot.sessions.keys import ChatKey
from bot.sessions.session import ClaudeSession, Turn

log = logging.getLogger(__name__)


def most_recent(sessions: list[ClaudeSession], limit: int) -> list[ClaudeSession]:
    """Sessions with a conversation to resume, most recently active first."""
    resumable = [s for s in sessions if s.session_id and s.record.chat_id is not None]
    return sorted(resumable, key=lambda s: s.record.last_activity, reverse=True)[: max(limit, 0)]


async def prewarm(runner: ClaudeRunner, sessions: list[ClaudeSession], running: Callable[[ClaudeSession], bool]) -> int:
    """``running``: the scheduler's; a session whose turn already runs has its CLI."""
    # One place stays free, so a chat that was not pre-started never waits for a CLI to close.
    chosen = most_recent(sessions, runner.max_live - 1)
    warmed = 0
    for session in chosen:
        if running(session):
            continue
        record = session.record
        placeholder = Turn(key=ChatKey(record.chat_id or 0, record.thread_id), prompt="")  # options are per session
        warmed += await runner.warm(session, placeholder)
    if chosen:
        log.info("pre-started Claude Code for %d of the %d most recently active chats", warmed, len(chosen))
    return warmed
