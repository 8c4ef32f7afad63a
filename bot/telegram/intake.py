"""Telegram is told an update arrived only after the bot has recorded it (or is done with it).

aiogram's polling confirms a batch of updates (the next getUpdates' offset) as soon as it has
started a task for each; a kill at that moment loses them. This dispatcher waits, after handing
out each update, until its handling opened the update's gate: the intake middleware opens it
once the message is in the inbox (fsynced), or the handling ends. As a side effect, updates are
taken in the order Telegram sent them, so a chat's burst keeps its order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

log = logging.getLogger(__name__)

GATE_TIMEOUT = 30.0  # a handler stuck before recording must not stop the whole bot


class GatedDispatcher(Dispatcher):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gates: dict[int, asyncio.Event] = {}

    def gate(self, update_id: int) -> None:
        """Polling (or the webhook) is taking `update_id` in: it waits in `passed` until it is released."""
        self._gates.setdefault(update_id, asyncio.Event())

    def release(self, update_id: int) -> None:
        """The update is recorded, or needs no record: Telegram may be told it arrived."""
        gate = self._gates.get(update_id)
        if gate is not None:
            gate.set()

    async def passed(self, update_id: int) -> None:
        """Wait until the update was released (at most GATE_TIMEOUT)."""
        gate = self._gates.setdefault(update_id, asyncio.Event())
        try:
            await asyncio.wait_for(gate.wait(), GATE_TIMEOUT)
        except TimeoutError:
            log.warning("update %s was not recorded within %.0f s; moving on", update_id, GATE_TIMEOUT)
        finally:
            self._gates.pop(update_id, None)

    async def _listen_updates(self, bot: Bot, *args: Any, **kwargs: Any) -> AsyncGenerator[Update, None]:  # type: ignore[override]
        async for update in super()._listen_updates(bot, *args, **kwargs):
            self.gate(update.update_id)
            yield update
            # The handling task exists now; the offset past this update is only sent after this.
            await self.passed(update.update_id)
