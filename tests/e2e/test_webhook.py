"""Webhook mode: the bot registers its webhook with the secret, serves Telegram's posts, refuses others."""

from __future__ import annotations

import socket
import time

import aiohttp
import pytest

from tests.e2e.chat import ask
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

PUBLIC_URL = "https://bot.example.com/telegram/hook"  # what the reverse proxy serves
SECRET = "s3cret_Token-42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def forged_update(text: str) -> dict:
    """A message update shaped as Telegram posts it, but sent by somebody else."""
    user = {"id": OWNER, "is_bot": False, "first_name": "Tester"}
    return {"update_id": 999_000, "message": {
        "message_id": 999, "date": int(time.time()), "chat": {"id": OWNER, "type": "private", "first_name": "Tester"},
        "from": user, "text": text,
    }}


async def test_webhook_mode_registers_the_secret_rejects_strangers_and_answers_telegram(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    listen = f"127.0.0.1:{free_port()}"
    bot.extra_env.update(TELEGRAM_WEBHOOK_URL=PUBLIC_URL, WEBHOOK_LISTEN=listen, WEBHOOK_SECRET=SECRET)
    await bot.start(wait=False)
    await telegram.wait_for(lambda: telegram.webhook_info()["url"] == PUBLIC_URL or bot.exited(), timeout=60)
    assert not bot.exited(), bot.log_tail()
    [registered] = [call for call in telegram.calls_to("setWebhook") if call.ok]
    assert registered.params["secret_token"] == SECRET

    endpoint = f"http://{listen}/telegram/hook"
    async with aiohttp.ClientSession() as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with client.post(endpoint, json=forged_update("#pwd forged"), headers=headers) as response:
                assert response.status in (401, 403), headers

    telegram.webhook_proxy = f"http://{listen}"  # Telegram can reach the bot now, through the proxy
    await ask(telegram, OWNER, "hello by webhook", "echo: hello by webhook")
    assert telegram.webhook_posts and all(status == 200 for _, status in telegram.webhook_posts)
    assert telegram.polls_started == 0
    # The forged requests reached nothing: no answer, nothing sent to Claude.
    assert not any("forged" in (m.text or "") for m in telegram.bot_messages(OWNER))
    assert not any("forged" in r.last_user_text for r in claude_api.main_requests())
    assert await bot.stop() == 0
    assert "Traceback" not in bot.start_output() and "stopped" in bot.start_output()
