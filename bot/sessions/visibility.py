"""Which sessions a person may see in /sessions: a group sees its own, a private chat what its user wrote to."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.sessions.keys import ChatKey
from bot.sessions.session import ClaudeSession


def visible_sessions(
    sessions: Iterable[ClaudeSession], key: ChatKey, user_id: int | None, members: Callable[[str], list[ChatKey]]
) -> list[ClaudeSession]:
    """In a group: that group's sessions (its topics, and shared sessions it takes part in).
    In a private chat: the sessions that user has written to, and the chat's own."""
    def in_chat(session: ClaudeSession) -> bool:
        return session.record.chat_id == key.chat_id or any(m.chat_id == key.chat_id for m in members(session.name))

    if key.chat_id < 0:
        return [s for s in sessions if in_chat(s)]
    return [s for s in sessions if in_chat(s) or (user_id is not None and user_id in s.record.users)]
