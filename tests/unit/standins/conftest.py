"""The Telegram stand-in and an aiogram Bot pointed at it, for the stand-in's own tests."""

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from tests.standins.telegram_api import TelegramStandin

CHAT = 1001


class FastSession(AiohttpSession):
    """AiohttpSession.close() sleeps 250 ms for TLS shutdown; plain HTTP on localhost needs none."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest.fixture
async def tg() -> AsyncIterator[TelegramStandin]:
    standin = TelegramStandin()
    await standin.start()
    standin.add_chat(CHAT, first_name="Tester")
    yield standin
    await standin.stop()
    assert standin.internal_errors == []


@pytest.fixture
async def bot(tg: TelegramStandin) -> AsyncIterator[Bot]:
    session = FastSession(api=TelegramAPIServer.from_base(tg.base_url))
    bot = Bot(tg.token, session=session)
    yield bot
    await session.close()
