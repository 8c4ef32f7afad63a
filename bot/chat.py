"""How the core reaches a chat: small protocols that bot/telegram/ implements.

The core (sessions, claude, turns, features) never imports aiogram or bot.telegram; it is
handed objects that satisfy these protocols by the composition root (bot/app.py).
"""

from __future__ import annotations

from typing import Protocol

from bot.sessions.keys import ChatKey


class ChatOutbox(Protocol):
    """Paced plain sends to one chat (and topic); HTML only where the caller escaped every value."""

    async def send_text(
        self, key: ChatKey, text: str, *, parse_mode: str | None = None, reply_to: int | None = None
    ) -> int | None: ...

    def edit_text(self, key: ChatKey, message_id: int, text: str, *, parse_mode: str | None = None) -> None: ...

    def delete(self, key: ChatKey, message_id: int) -> None: ...

    async def send_document(
        self, key: ChatKey, filename: str, data: bytes, *, caption: str | None = None, reply_to: int | None = None
    ) -> int | None: ...
