"""The aiogram Bot for a token, pointed at Telegram or at TELEGRAM_API_URL (self-hosted server, test stand-in)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.config import DEFAULT_API_URL


# aiogram's default is 60 s (70 s for a long poll). A Bot API call normally takes well under a
# second, so a connection that went silent (a network blackhole) is given up on and retried sooner.
REQUEST_TIMEOUT = 15


def make_bot(token: str, api_url: str = DEFAULT_API_URL) -> Bot:
    session = AiohttpSession(timeout=REQUEST_TIMEOUT)
    if api_url.rstrip("/") != DEFAULT_API_URL:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url), timeout=REQUEST_TIMEOUT)
    return Bot(token, session=session)
