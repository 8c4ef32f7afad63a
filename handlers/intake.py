"""Every message an allowed user sends is in the inbox before Telegram is told it arrived.

`ConfirmMiddleware` (outermost) opens the update's gate when its handling ends, whatever happened,
and hands the handlers `confirm` to open it early (an update turned away is not recorded);
`InboxMiddleware` (after access control and the staleness check) records a message durably and
opens the gate at once, so polling moves on while the handler runs. A message whose handler
did not hand it to a turn is settled when the handler returns; a turn settles its own once it
is answered. A message replayed after a restart arrives with its inbox entry and is not
recorded again.
"""

from __future__ import annotations

import logging
from functools import partial
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update

from bot.app import Core
from bot.telegram.intake import GatedDispatcher
from bot.sessions.inbox import Accepted, InboxWriteFailed
from handlers.context import key_of

log = logging.getLogger(__name__)

NOT_RECORDED = "I could not record this message (the bot's disk refused the write), so it was not sent to Claude; please send it again."

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _nothing() -> None:
    return None


class ConfirmMiddleware(BaseMiddleware):
    def __init__(self, dispatcher: GatedDispatcher) -> None:
        self.dispatcher = dispatcher

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        if "replayed" in data:  # carried on after a restart: Telegram confirmed it long ago
            data["confirm"] = _nothing
            return await handler(event, data)
        data["confirm"] = partial(self.dispatcher.release, event.update_id)
        try:
            return await handler(event, data)
        finally:
            self.dispatcher.release(event.update_id)


class InboxMiddleware(BaseMiddleware):
    def __init__(self, core: Core) -> None:
        self.core = core

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        message = event.message or event.edited_message
        if message is None:
            return await handler(event, data)
        entry: Accepted | None = data.get("replayed")
        if entry is None:
            entry = await self._record(event, message)
            if entry is None:
                return None
        data["confirm"]()
        data["accepted"] = entry
        try:
            return await handler(event, data)
        finally:
            if not entry.claimed:
                await self.core.inbox.settle(entry)

    async def _record(self, update: Update, message: Message) -> Accepted | None:
        entry = Accepted(
            update_id=update.update_id,
            update=update.model_dump(mode="json", exclude_none=True, by_alias=True),  # Telegram's own JSON
            key=key_of(message),
            message_id=message.message_id,
            edit=update.edited_message is not None,
        )
        try:
            return await self.core.inbox.accept(entry)
        except InboxWriteFailed as exc:
            log.error("could not record update %s: %s", update.update_id, exc)
            await self.core.outboxes.send_text(key_of(message), NOT_RECORDED, reply_to=message.message_id)
            return None
