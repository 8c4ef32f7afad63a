"""Earlier conversations a chat can `/resume`: its own history plus unowned ones in its directory."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.sessions.session import ClaudeSession
from bot.util.text import shorten

if TYPE_CHECKING:
    from claude_agent_sdk import SDKSessionInfo


@dataclass(frozen=True)
class ResumeChoice:
    session_id: str
    title: str
    last_modified: float  # seconds since the epoch
    working_dir: str

    @property
    def label(self) -> str:
        when = dt.datetime.fromtimestamp(self.last_modified).strftime("%b %d %H:%M")
        return shorten(f"{when} · {self.title or self.session_id[:8]}", 60)


def _choice(info: SDKSessionInfo, fallback_dir: str) -> ResumeChoice:
    title = info.custom_title or info.summary or info.first_prompt or ""
    return ResumeChoice(info.session_id, title, info.last_modified / 1000, info.cwd or fallback_dir)


def _collect(session: ClaudeSession, owned_elsewhere: set[str], also: list[str], limit: int) -> list[ResumeChoice]:
    from claude_agent_sdk import get_session_info, list_sessions

    record = session.record
    choices: dict[str, ResumeChoice] = {}
    for session_id, working_dir in [(p.session_id, p.working_dir) for p in record.history] + [(s, "") for s in also]:
        info = get_session_info(session_id)
        if info is not None:
            choices[session_id] = _choice(info, working_dir or record.working_dir)
    for info in list_sessions(directory=record.working_dir, limit=limit * 3, include_worktrees=False):
        if info.session_id not in owned_elsewhere and info.session_id not in choices:
            choices[info.session_id] = _choice(info, record.working_dir)
    choices.pop(record.session_id or "", None)
    return sorted(choices.values(), key=lambda c: c.last_modified, reverse=True)[:limit]


async def resume_choices(
    session: ClaudeSession, owned_elsewhere: set[str], also: list[str] | None = None, limit: int = 8
) -> list[ResumeChoice]:
    """Newest first: the session's history, `also` (conversations of a shared session's member
    chats) and unowned conversations in its directory. Reading transcripts is file I/O, so it
    runs off the event loop."""
    return await asyncio.to_thread(_collect, session, owned_elsewhere, also or [], limit)
