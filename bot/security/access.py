"""Which chats the bot serves, and which sessions a person may see in /sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.sessions.keys import ChatKey
from bot.sessions.session import ClaudeSession

MEMBER_STATUSES = frozenset({"member", "administrator", "creator", "restricted"})


def chat_served(chat_id: int, chat_type: str, allowed_chats: Iterable[int]) -> bool:
    """Private chats (of allowed users) always; groups only when listed, if ALLOWED_CHATS lists any."""
    allowed = set(allowed_chats)
    return chat_type == "private" or not allowed or chat_id in allowed


def should_leave(
    *, chat_id: int, chat_type: str, added_by: int | None, old_status: str, new_status: str,
    allowed_users: Iterable[int], allowed_chats: Iterable[int],
) -> bool:
    """The bot was just added to a group by someone outside ALLOWED_USERS, or to a group not served."""
    if chat_type == "private" or old_status in MEMBER_STATUSES or new_status not in MEMBER_STATUSES:
        return False
    return added_by not in set(allowed_users) or not chat_served(chat_id, chat_type, allowed_chats)


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
