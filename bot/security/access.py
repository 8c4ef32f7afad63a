"""Which chats the bot serves, and which groups it leaves."""

from __future__ import annotations

from collections.abc import Iterable

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
