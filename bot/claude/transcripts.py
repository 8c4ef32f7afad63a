"""What Claude Code's own transcript says of a turn the bot lost track of (it died before recording the end).

Claude Code writes each message of a conversation to its transcript as it completes, so a turn the CLI
finished is there even when the bot was killed between Claude's last word and its own record of it.
The bot then completes that turn from the transcript instead of asking Claude again: one answer, never a
second one for a question already answered. Read through the SDK's session helpers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from bot.sessions.session import ClaudeSession

log = logging.getLogger(__name__)

_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL)


def _texts(message: Any) -> list[str]:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [content]
    return [str(b.get("text") or "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"]


def finished_answer(messages: list[Any], prompt: str) -> str | None:
    """The answer to ``prompt`` when it is the conversation's last prompt and Claude's reply to it ran to its end
    (``end_turn``); None when the transcript does not show that (not sent, cut short, or answered differently)."""
    prompts = [i for i, m in enumerate(messages) if m.type == "user" and any(_REMINDER.sub("", t).strip() for t in _texts(m.message))]
    if not prompts or not prompt.strip():
        return None
    last = prompts[-1]
    if not any(prompt.strip() in text for text in _texts(messages[last].message)):
        return None
    replies = [m for m in messages[last + 1 :] if m.type == "assistant"]
    if not replies or (replies[-1].message or {}).get("stop_reason") != "end_turn":
        return None
    texts = [t for m in replies for t in _texts(m.message) if t.strip()]
    return "\n\n".join(texts) or None  # as the turn's own outcome joins its text blocks


def read(session_id: str) -> list[Any]:
    """Looked up by id in every project folder: given a directory, the SDK's helper would run `git worktree
    list` in the workspace when the file is not in that directory's folder, and git in a workspace runs
    only through bot/util/git.py (in the box, never the repository's own config)."""
    from claude_agent_sdk import get_session_messages

    return get_session_messages(session_id)


class ClaudeTranscripts:
    """The scheduler's Transcripts: a session's transcript read in a thread (it can be large)."""

    async def finished(self, session: ClaudeSession, prompt: str) -> str | None:
        if not session.session_id:
            return None
        try:
            messages = await asyncio.to_thread(read, session.session_id)
        except Exception as exc:  # unreadable: the turn runs again, as it would have without this check
            log.warning("could not read the transcript of %s: %s", session.name, exc)
            return None
        return finished_answer(messages, prompt)
