"""Outer middlewares: only ALLOWED_USERS reach any handler; strangers get at most one refusal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bot.app import Core
from handlers.context import key_of

log = logging.getLogger(__name__)

REFUSAL = "Sorry, this is a private bot."


class AccessMiddleware(BaseMiddleware):
    def __init__(self, core: Core) -> None:
        self.core = core
        self._refused: set[int] = set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        user = data.get("event_from_user")
        if self.core.is_allowed(user.id if user else None):
            return await handler(event, data)
        inner = event.event
        log.info("refused update %s from user %s", event.update_id, user.id if user else None)
        if isinstance(inner, CallbackQuery):
            await inner.answer(REFUSAL)
        elif isinstance(inner, Message) and inner.chat.type == "private" and user and user.id not in self._refused:
            self._refused.add(user.id)  # one refusal per stranger, not one per message
            await self.core.outboxes.send_text(key_of(inner), REFUSAL)
        return None

