"""Edited messages: one that still waits (gathered with a paste or album, or queued) changes what Claude
gets; one Claude already has gets a line and a button to send the edited text as a new message."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sessions.inbox import Inbox
from bot.sessions.keys import ChatKey
from bot.sessions.session import ClaudeSession
from bot.turns.gather import Gatherer
from bot.turns.scheduler import TurnScheduler

ALREADY_SENT = "Claude already has the earlier version of this message."
RESEND_BUTTON = "Send the edited text"


@dataclass(frozen=True)
class PendingEdits:
    gather: Gatherer
    scheduler: TurnScheduler
    inbox: Inbox

    async def apply(self, session: ClaudeSession, key: ChatKey, user_id: int | None, message_id: int, prompt: str) -> bool:
        """True when message ``message_id`` had not reached Claude yet: Claude gets ``prompt`` instead."""
        held = self.gather.edit(key, user_id, message_id, prompt)
        if held is None:
            return self.scheduler.edit_queued(session, key, message_id, prompt)
        if held.turn is not None and held.turn.inbox:
            await self.inbox.note(held.turn.inbox[0], "prompt", prompt)  # a restart gathers the edited text
        return True
