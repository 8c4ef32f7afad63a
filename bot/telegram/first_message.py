"""`init`'s wait for a first message: who writes to the bot, without consuming anyone's updates.

getUpdates confirms every update below the offset it is given, and the bot, once started, must
still see every message sent before (the operator's first message included, which it then
answers). So this never passes an offset: it reads what is pending, and long-polls only while
nothing is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection

from aiogram.exceptions import TelegramConflictError, TelegramNetworkError, TelegramServerError
from aiogram.types import Update

from bot.telegram.client import make_bot
from bot.util.botapi import ApiUnreachable, PollConflict, Sender

LONG_POLL = 20
PENDING_PAUSE = 1.0  # pending updates come back at once: do not spin on them


def _sender(update: Update) -> Sender | None:
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot or message.chat.type != "private":
        return None
    user = message.from_user
    return Sender(user.id, user.full_name, user.username or "")


async def first_message(token: str, api_url: str, timeout: float, ready: Callable[[], None]) -> Sender | None:
    """The sender of the first private message not pending when called; None after `timeout`.

    `ready` is called once the pending ones are known: only then may the person be asked to write.
    """
    bot = make_bot(token, api_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: Collection[int] | None = None  # the updates pending at the start: earlier messages, not the operator's
    try:
        while loop.time() < deadline:
            wait = 0 if seen is None else max(1, min(LONG_POLL, int(deadline - loop.time())))
            try:
                updates = await bot.get_updates(timeout=wait, request_timeout=wait + 15)
            except TelegramConflictError as exc:
                raise PollConflict(exc.message) from None
            except (TelegramNetworkError, TelegramServerError, OSError) as exc:
                raise ApiUnreachable(str(getattr(exc, "message", "") or exc)) from None
            if seen is None:
                seen = {update.update_id for update in updates}
                ready()
                continue
            for update in updates:
                if update.update_id not in seen and (sender := _sender(update)):
                    return sender
            if updates:
                await asyncio.sleep(PENDING_PAUSE)
        return None
    finally:
        await bot.session.close()
