"""getMe against the Bot API: who the bot is, whether Telegram accepts the token, whether it is reachable."""

from __future__ import annotations

import asyncio
import logging
import random

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.telegram.client import make_bot
from bot.util.botapi import ApiUnreachable, BotIdentity, TokenRefused

log = logging.getLogger(__name__)

FIRST_RETRY = 1.0
MAX_RETRY = 30.0


async def identify(bot: Bot) -> BotIdentity:
    """One getMe; raises TokenRefused or ApiUnreachable (messages never hold the token)."""
    try:
        me = await bot.me()  # cached on success: start_polling asks for it again
    except (TelegramUnauthorizedError, TelegramNotFound) as exc:
        raise TokenRefused(f"Telegram refuses the token ({exc.message})") from None
    except TelegramRetryAfter as exc:
        raise ApiUnreachable(f"Telegram asks to retry after {exc.retry_after} s") from None
    except TelegramServerError as exc:
        raise ApiUnreachable(f"the Bot API answered with a server error ({exc.message})") from None
    except (TelegramNetworkError, OSError, asyncio.TimeoutError) as exc:
        raise ApiUnreachable(str(getattr(exc, "message", "") or exc) or type(exc).__name__) from None
    return BotIdentity(
        username=me.username or "",
        can_read_all_group_messages=bool(me.can_read_all_group_messages),
        has_topics_enabled=bool(me.has_topics_enabled),
        name=me.first_name or "",
    )


async def probe(token: str, api_url: str) -> BotIdentity:
    """getMe with a short-lived client (for `doctor`)."""
    bot = make_bot(token, api_url)
    try:
        return await identify(bot)
    finally:
        await bot.session.close()


async def wait_until_reachable(bot: Bot, api_url: str) -> BotIdentity:
    """getMe until the Bot API answers, with back-off; one log line when it is not reachable.

    A network that is not up yet or a Telegram outage must not end the bot: a service manager
    would restart it in a tight loop. A refused token (TokenRefused) ends it: retrying cannot help.
    """
    delay = FIRST_RETRY
    failures = 0
    while True:
        try:
            identity = await identify(bot)
        except ApiUnreachable as exc:
            failures += 1
            if failures == 1:
                log.warning("the Bot API at %s is not reachable (%s); retrying with back-off until it is", api_url, exc)
            else:
                log.debug("Bot API still not reachable (%s); next try in %.0f s", exc, delay)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, MAX_RETRY)
            continue
        if failures:
            log.info("the Bot API is reachable again after %d failed attempts", failures)
        return identity
