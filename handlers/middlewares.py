"""Outer middlewares: only ALLOWED_USERS, in chats the bot serves (ALLOWED_CHATS), reach any handler
(strangers get at most one refusal), and messages that waited too long while the bot was down are not sent to Claude."""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bot.app import Core
from bot.util.text import ago
from handlers.context import key_of
from handlers.migration import is_migration

log = logging.getLogger(__name__)

REFUSAL = "Sorry, this is a private bot."
MAX_REFUSED_REMEMBERED = 10_000  # strangers told once; the oldest are forgotten so a flood cannot grow it


class _Gate(BaseMiddleware):
    """Lets an update through to the handlers, or answers it itself (at most once) and stops it."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        # A group upgrade's service message moves the session, whoever sent it and however late.
        if (event.message is not None and is_migration(event.message)) or self.lets_through(event, data):
            return await handler(event, data)
        if "confirm" in data:  # nothing to record: polling need not wait for the answer
            data["confirm"]()
        await self.turn_away(event, data)
        return None

    @abstractmethod
    def lets_through(self, update: Update, data: dict[str, Any]) -> bool: ...

    @abstractmethod
    async def turn_away(self, update: Update, data: dict[str, Any]) -> None: ...


class AccessMiddleware(_Gate):
    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self._refused: OrderedDict[int, None] = OrderedDict()

    def lets_through(self, update: Update, data: dict[str, Any]) -> bool:
        if update.my_chat_member is not None:  # the bot itself was added or removed: handlers/membership.py decides
            return True
        if update.stopped_message_generation is not None:  # no sender: only a draft streaming here counts (handlers/drafts.py)
            return True
        user = data.get("event_from_user")
        return self._chat_served(data) and self.core.is_allowed(user.id if user else None)

    def _chat_served(self, data: dict[str, Any]) -> bool:
        chat = data.get("event_chat")
        return chat is None or self.core.serves_chat(chat.id, chat.type)

    async def turn_away(self, update: Update, data: dict[str, Any]) -> None:
        user = data.get("event_from_user")
        inner = update.event
        if not self._chat_served(data):
            log.info("ignored update %s from chat %s (not in ALLOWED_CHATS)", update.update_id, data["event_chat"].id)
            if isinstance(inner, CallbackQuery):
                await inner.answer(REFUSAL)
            return
        log.info("refused update %s from user %s", update.update_id, user.id if user else None)
        if isinstance(inner, CallbackQuery):
            await inner.answer(REFUSAL)
        elif isinstance(inner, Message) and inner.chat.type == "private" and user and user.id not in self._refused:
            self._refused[user.id] = None  # one refusal per stranger, not one per message
            if len(self._refused) > MAX_REFUSED_REMEMBERED:
                self._refused.popitem(last=False)
            await self.core.outboxes.send_text(key_of(inner), REFUSAL)


class StaleUpdateMiddleware(_Gate):
    """Messages that waited longer than MAX_UPDATE_AGE_SECONDS (the bot was down) are not sent to Claude.

    Younger ones that piled up while the bot was down are handled as usual: polling starts
    from the first unconfirmed update.
    """

    def lets_through(self, update: Update, data: dict[str, Any]) -> bool:
        message = update.message
        if message is None or data.get("replayed") is not None:  # accepted in time before a restart
            return True
        return time.time() - message.date.timestamp() <= self.core.settings.max_update_age_seconds

    async def turn_away(self, update: Update, data: dict[str, Any]) -> None:
        message = update.message
        assert message is not None
        log.info("skipped update %s: message sent %s", update.update_id, ago(message.date.timestamp()))
        await self.core.outboxes.send_text(
            key_of(message),
            f"This message arrived {ago(message.date.timestamp())} while the bot was offline, so it was not sent "
            "to Claude; send it again if you still need it.",
            reply_to=message.message_id,
        )
