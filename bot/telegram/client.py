"""The aiogram Bot for a token, pointed at Telegram or at TELEGRAM_API_URL (self-hosted server, test stand-in)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.config import DEFAULT_API_URL


def make_bot(token: str, api_url: str = DEFAULT_API_URL) -> Bot:
    session = None
    if api_url.rstrip("/") != DEFAULT_API_URL:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    return Bot(token, session=session)
