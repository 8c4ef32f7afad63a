"""Group upgrades: Telegram gives a group a new id when it becomes a supergroup; its session follows.

The move happens when the bot learns of the upgrade: the ``migrate_to_chat_id`` service message
in the old chat, the ``migrate_from_chat_id`` one in the new chat (both wait for the bot if it was
down), or a send to the old id that Telegram refuses with the new id. Whichever comes first moves
the session; the others find nothing left to move.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.sessions.keys import ChatKey
from bot.sessions.links import LinkStore
from bot.sessions.manager import SessionManager
from bot.sessions.session import ClaudeSession

log = logging.getLogger(__name__)


class LiveTurnsMoves(Protocol):
    """What a move needs of the scheduler (bot.turns.scheduler.TurnScheduler), which owns the live turns."""

    def is_running(self, session: ClaudeSession) -> bool: ...

    def moved(self, session: ClaudeSession, old_name: str, old: ChatKey, new: ChatKey) -> None: ...


@dataclass
class ChatMoves:
    manager: SessionManager
    turns: LiveTurnsMoves
    links: LinkStore
    groups: Mapping[str, Sequence[ChatKey]]  # SESSION_CHAT_GROUPS: configuration, only warned about
    close_client: Callable[[ClaudeSession], Awaitable[None]]
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def move(self, old_id: int, new_id: int) -> bool:
        """Move the chat's session, links and turns from ``old_id`` to ``new_id``; False if nothing was left to move."""
        async with self._lock:
            old, new = ChatKey(old_id), ChatKey(new_id)
            for name, keys in self.groups.items():
                if old in keys:
                    log.warning(
                        "Chat %s was upgraded to supergroup %s, but SESSION_CHAT_GROUPS %r still names %s: "
                        "replace it with %s there", old_id, new_id, name, old, new,
                    )
            relinked = await asyncio.to_thread(self.links.replace_member, old, new)
            moved = await self.manager.move(str(old), new, self._release)
            if moved is not None:
                self.turns.moved(moved, str(old), old, new)
            if moved is not None or relinked:
                log.info("Chat %s was upgraded to supergroup %s: its session and links moved with it", old_id, new_id)
            return moved is not None or relinked

    async def _release(self, session: ClaudeSession) -> None:
        if not self.turns.is_running(session):
            await self.close_client(session)  # its CLI is registered under the old name; the next turn resumes
