"""The stand-in's drafts: only private chats, a non-zero id, 0-4096 characters, 429s; Telegram's stop as an update."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import Update

from tests.standins.telegram_api import TelegramStandin
from tests.unit.standins.test_telegram_standin import CHAT

GROUP = -100700


async def test_a_draft_in_a_private_chat_is_recorded_and_may_be_empty(bot: Bot, tg: TelegramStandin) -> None:
    assert await bot.send_message_draft(CHAT, 5, text="", can_stop=True, keep_on_stop=True) is True
    assert await bot.send_message_draft(CHAT, 5, text="so far") is True
    assert [(d.draft_id, d.text, d.can_stop, d.keep_on_stop) for d in tg.drafts_in(CHAT)] == [
        (5, "", True, True), (5, "so far", False, False)
    ]
    assert tg.bot_messages(CHAT) == []  # a draft is not a message


@pytest.mark.parametrize(
    ("chat", "draft_id", "text", "reason"),
    [
        (GROUP, 5, "x", "TEXTDRAFT_PEER_INVALID"),
        (CHAT, 0, "x", "draft_id must be non-zero"),
        (CHAT, 5, "x" * 4097, "message is too long"),
    ],
)
async def test_drafts_telegram_refuses(bot: Bot, tg: TelegramStandin, chat: int, draft_id: int, text: str, reason: str) -> None:
    tg.add_chat(GROUP, chat_type="supergroup", title="Team")
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_message_draft(chat, draft_id, text=text)
    assert reason in info.value.message and tg.drafts == []


async def test_refused_drafts_and_flood_control(bot: Bot, tg: TelegramStandin) -> None:
    tg.refuse_drafts()
    with pytest.raises(TelegramBadRequest, match="TEXTDRAFT_PEER_INVALID"):
        await bot.send_message_draft(CHAT, 5, text="x")
    tg.refuse_drafts(False)
    tg.flood(every=1, retry_after=3)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message_draft(CHAT, 5, text="x")


async def test_the_stop_button_is_an_update_without_a_sender(bot: Bot, tg: TelegramStandin) -> None:
    tg.stop_draft(CHAT, 5, thread_id=9)
    [raw] = await bot.get_updates(allowed_updates=["stopped_message_generation"])
    update = Update.model_validate(raw.model_dump())
    stopped = update.stopped_message_generation
    assert stopped is not None and (stopped.chat.id, stopped.draft_id, stopped.message_thread_id) == (CHAT, 5, 9)
    assert update.event_type == "stopped_message_generation"


# -- what Telegram refuses in a message's text (issue 19's exact-text defects) --------------


@pytest.mark.parametrize("text", ["\u200b", "\u2800", " \u2800\n\u200b ", "\ufeff", "\u00a0\u3000"])
async def test_a_text_of_only_invisible_characters_is_empty(bot: Bot, tg: TelegramStandin, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(CHAT, text)
    assert (await bot.send_message(CHAT, f"a{text}")).text  # with something visible it is a message


async def test_a_lone_surrogate_is_no_utf8(bot: Bot, tg: TelegramStandin) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:  # aiogram can't even encode it; raw JSON can carry it
        url = f"{tg.base_url}/bot{tg.token}/sendMessage"
        async with http.post(url, data='{"chat_id": %d, "text": "cut \\ud83d"}' % CHAT, headers={"Content-Type": "application/json"}) as response:
            body = await response.json()
    assert (response.status, body["description"]) == (400, "Bad Request: strings must be encoded in UTF-8")


async def test_the_same_entity_twice_over_the_same_text_is_refused(bot: Bot, tg: TelegramStandin) -> None:
    from aiogram.types import MessageEntity

    twice = [MessageEntity(type="bold", offset=0, length=4), MessageEntity(type="bold", offset=2, length=2)]
    with pytest.raises(TelegramBadRequest, match="two bold entities overlap"):
        await bot.send_message(CHAT, "text", entities=twice)
    nested = [MessageEntity(type="bold", offset=0, length=4), MessageEntity(type="italic", offset=0, length=4)]
    assert (await bot.send_message(CHAT, "text", entities=nested)).entities
