"""Edited messages: a still-queued one changes what Claude gets; one Claude already has is offered again."""

from __future__ import annotations

from bot.sessions.keys import ChatKey
from bot.sessions.manager import SessionManager
from bot.sessions.session import Turn

EDITED_WHILE_QUEUED = (
    "⏳ Queued, edited: after the current turn, Claude gets the edited text, together with the other messages waiting then."
)
ALREADY_SENT = "Claude already has the earlier version of this message."
RESEND_BUTTON = "Send the edited text"


async def edit_queued(manager: SessionManager, key: ChatKey, message_id: int, prompt: str) -> Turn | None:
    """Give a queued turn its message's edited text; None when no queued turn holds that message."""
    session = await manager.for_chat(key)
    for turn in session.queue:
        if turn.key == key and turn.reply_to == message_id:
            turn.prompt = prompt
            return turn
    return None
