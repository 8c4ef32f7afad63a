"""Faults from outside: Claude's API failing or dropping streams, Telegram failing or hanging.

A turn that could not be answered gets one clear sentence, and the bot recovers on its own once
the service is back: the next message gets a normal answer in the same conversation.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.chat import ask
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import BotMessage, TelegramStandin

pytestmark = pytest.mark.e2e


def sent_ids(telegram: TelegramStandin, chat: int) -> set[int]:
    return {m.message_id for m in telegram.bot_messages(chat, include_deleted=True)}


def new_messages(telegram: TelegramStandin, chat: int, before: set[int]) -> list[BotMessage]:
    """The bot's visible messages in the chat that were not there before."""
    return [m for m in telegram.bot_messages(chat) if m.message_id not in before]


def one_sentence(text: str) -> bool:
    text = text.strip()
    return "\n" not in text and text.endswith(".") and ". " not in text and "Traceback" not in text


async def failed_turn(telegram: TelegramStandin, chat: int, text: str, expect: str) -> None:
    """Send `text`; its answer must be one visible message, one sentence containing `expect`."""
    before = sent_ids(telegram, chat)
    message_id = telegram.user_message(chat, OWNER, text)["message"]["message_id"]
    answer = await telegram.wait_for(
        lambda: next((m for m in new_messages(telegram, chat, before) if expect in (m.text or "")), None), timeout=60
    )
    await asyncio.sleep(1.5)  # anything else the bot would send for this turn (partial text, a second error)
    shown = new_messages(telegram, chat, before)
    assert [m.message_id for m in shown] == [answer.message_id], [m.text for m in shown]
    assert answer.reply_to_message_id == message_id
    assert one_sentence(answer.text or ""), answer.text


async def test_claude_api_errors_are_one_sentence_each_and_the_conversation_goes_on(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    # A new chat whose very first turn fails starts its conversation with the next message.
    claude_api.set_down(True)  # every request: 529 overloaded
    await failed_turn(telegram, OWNER, "first words", "overloaded")
    claude_api.set_down(False)
    await ask(telegram, OWNER, "warm up", "echo: warm up")
    for directive, sentence, name in [("#error 500", "server error", "a 500"), ("#error 529", "overloaded", "a 529"),
                                      ("#error 429", "rate limiting", "a 429"), ("#close", "server error", "a drop")]:
        await failed_turn(telegram, OWNER, f"{directive} please", sentence)
        await ask(telegram, OWNER, f"after {name}", f"echo: after {name}")
    claude_api.set_down(True, refuse=True)  # connections dropped without an answer
    await failed_turn(telegram, OWNER, "while it refuses", "again")
    claude_api.set_down(False)
    history = await ask(telegram, OWNER, "#history", "history:")
    assert "warm up" in history and "after a drop" in history
    assert telegram.errors() == []


async def test_telegram_outages_mid_turn_deliver_the_reply_once_afterwards(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    await ask(telegram, OWNER, "before", "echo: before")
    for mode in ["500", "close", "timeout"]:  # timeout: requests hang until the bot gives up on them
        before = sent_ids(telegram, OWNER)
        text = f"#slow 1.5 outage {mode}"
        telegram.user_message(OWNER, OWNER, text)
        await claude_api.wait_for(lambda text=text: any(text in r.last_user_text for r in claude_api.main_requests()))
        telegram.set_down(True, mode=mode)
        # The turn ends while Telegram is away, so its reply has to wait.
        await claude_api.wait_for(lambda text=text: any(text in r.last_user_text and r.done_at for r in claude_api.requests))
        await asyncio.sleep(2)
        telegram.set_down(False)
        final = f"echo: {text}"
        await telegram.wait_for(lambda final=final: any(m.text == final for m in telegram.bot_messages(OWNER)), timeout=60)
        # Delivered once, and the progress message it replaced is not left behind.
        assert [m.text for m in new_messages(telegram, OWNER, before)] == [final], mode
        await ask(telegram, OWNER, f"after {mode}", f"echo: after {mode}", timeout=60)
