"""The Telegram stand-in, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)

from tests.standins.telegram_api import TelegramStandin, parse_formatted_text
from tests.unit.standins.conftest import FastSession

CHAT = 1001
USER = 1001
FORUM = -100500


def _keyboard(*datas: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=d or "x", callback_data=d)] for d in datas])


async def test_get_me(bot: Bot, tg: TelegramStandin) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (tg.bot_id, "claude_test_bot", True)
    assert tg.calls[-1].method == "getMe" and tg.calls[-1].ok


async def test_send_plain_and_html(bot: Bot, tg: TelegramStandin) -> None:
    plain = await bot.send_message(CHAT, "hello  \n")
    assert plain.text == "hello"  # Telegram trims trailing spaces and newlines
    html = await bot.send_message(CHAT, "<b>Bold</b> &lt;tag&gt; &amp; <code>x</code>", parse_mode="HTML")
    assert html.text == "Bold <tag> & x"
    assert [(e.type, e.offset, e.length) for e in html.entities or []] == [("bold", 0, 4), ("code", 13, 1)]
    stored = tg.bot_messages(CHAT)
    assert [m.text for m in stored] == ["hello", "Bold <tag> & x"]
    assert stored[1].raw_text == "<b>Bold</b> &lt;tag&gt; &amp; <code>x</code>" and stored[1].parse_mode == "HTML"
    assert tg.calls[-1].params["chat_id"] == CHAT


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<x>hi</x>", 'Unsupported start tag "x" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("fish & chips", "Character '&' at byte offset 5"),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ],
)
async def test_bad_html_is_rejected(bot: Bot, tg: TelegramStandin, text: str, reason: str) -> None:
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_message(CHAT, text, parse_mode="HTML")
    assert info.value.message.startswith("Bad Request: can't parse entities: ")
    assert reason in info.value.message
    assert tg.bot_messages(CHAT) == []
    assert [c.error_code for c in tg.errors("sendMessage")] == [400]


async def test_markdown_v2(bot: Bot, tg: TelegramStandin) -> None:
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved and must be escaped"):
        await bot.send_message(CHAT, "version 1.2", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="Can't find end of Bold entity at byte offset 0"):
        await bot.send_message(CHAT, "*bold", parse_mode="MarkdownV2")
    sent = await bot.send_message(
        CHAT, "*bold* _it_ `a.b` v1\\.2 [link](https://example.com)\n>quoted", parse_mode="MarkdownV2"
    )
    assert sent.text == "bold it a.b v1.2 link\nquoted"
    assert {e.type for e in sent.entities or []} == {"bold", "italic", "code", "text_link", "blockquote"}
    with pytest.raises(TelegramBadRequest, match="Can't find end of the entity starting at byte offset 5"):
        await bot.send_message(CHAT, "snake_case", parse_mode="Markdown")


async def test_length_is_counted_in_code_points_after_parsing(bot: Bot, tg: TelegramStandin) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(CHAT, "a" * 4097)
    await bot.send_message(CHAT, "a" * 4096)
    await bot.send_message(CHAT, "😀" * 4096)  # tdlib: utf8_length, 8192 UTF-16 units are fine
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "😀" * 4096 + "a")
    await bot.send_message(CHAT, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")  # tags do not count
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(CHAT, BufferedInputFile(b"x", "a.txt"), caption="c" * 1025)
    assert len(tg.bot_messages(CHAT)) == 3


async def test_more_than_100_entities_are_refused(bot: Bot, tg: TelegramStandin) -> None:
    many = [MessageEntity(type="bold", offset=i, length=1) for i in range(101)]
    with pytest.raises(TelegramBadRequest, match="too many entities"):
        await bot.send_message(CHAT, "x" * 200, entities=many)
    await bot.send_message(CHAT, "x" * 200, entities=many[:100])


async def test_entities_parameter(bot: Bot, tg: TelegramStandin) -> None:
    sent = await bot.send_message(CHAT, "😀 bold", entities=[MessageEntity(type="bold", offset=3, length=4)])
    assert sent.entities and sent.entities[0].offset == 3
    assert tg.bot_messages(CHAT)[0].entities[0].type == "bold"
    with pytest.raises(TelegramBadRequest, match="entity beyond the end of text"):
        await bot.send_message(CHAT, "😀 bold", entities=[MessageEntity(type="bold", offset=3, length=5)])
    with pytest.raises(TelegramBadRequest, match="Unsupported type specified"):
        await bot.send_message(CHAT, "x", entities=[MessageEntity(type="sparkly", offset=0, length=1)])


async def test_edit_delete_and_not_modified(bot: Bot, tg: TelegramStandin) -> None:
    sent = await bot.send_message(CHAT, "<b>v1</b>", parse_mode="HTML", reply_markup=_keyboard("a"))
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is not modified: specified new message"):
        # same parse result (HTML vs MarkdownV2 does not matter) and same keyboard
        await bot.edit_message_text("*v1*", chat_id=CHAT, message_id=sent.message_id,
                                    parse_mode="MarkdownV2", reply_markup=_keyboard("a"))
    # omitting reply_markup removes the keyboard, so this is a modification
    await bot.edit_message_text("<b>v1</b>", chat_id=CHAT, message_id=sent.message_id, parse_mode="HTML")
    await bot.edit_message_text("v2", chat_id=CHAT, message_id=sent.message_id)
    (message,) = tg.bot_messages(CHAT)
    assert (message.text, message.edits, message.reply_markup) == ("v2", 2, None)
    assert message.history == ["v1", "v1", "v2"]
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=999)
    assert await bot.delete_message(CHAT, sent.message_id)
    assert tg.bot_messages(CHAT) == [] and message.deleted
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=sent.message_id)


async def test_inline_keyboard_rules(bot: Bot, tg: TelegramStandin) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=_keyboard("d" * 64))
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=_keyboard("d" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=_keyboard("я" * 33))  # 66 bytes in UTF-8
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed in the inline keyboard"):
        await bot.send_message(
            CHAT, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="t")]])
        )


async def test_fail_next_429_and_retry_window(bot: Bot, tg: TelegramStandin) -> None:
    tg.add_chat(2002)
    tg.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(CHAT, "first")
    assert info.value.retry_after == 3
    assert "Too Many Requests: retry after 3" in info.value.message
    assert tg.flood_violations() == []
    # retrying at once is a flood violation and gets another 429...
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(CHAT, "too soon")
    assert [c.params["text"] for c in tg.flood_violations(CHAT)] == ["too soon"]
    # ...while other chats are not throttled
    await bot.send_message(2002, "other chat")
    # a non-429 fault, and fail_next(None) hitting any sending method
    tg.fail_next(None, error_code=500)
    with pytest.raises(TelegramServerError):
        await bot.send_message(2002, "x")
    await bot.send_message(2002, "recovered")


async def test_flood_every(bot: Bot, tg: TelegramStandin) -> None:
    tg.flood(every=2, retry_after=5)
    await bot.send_message(CHAT, "1")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(CHAT, "2")
    assert info.value.retry_after == 5
    tg.flood(every=0)


async def test_long_polling(bot: Bot, tg: TelegramStandin) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    pushed = tg.user_message(CHAT, USER, "/start")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 2  # woke up on the push, not at the timeout
    assert [u.update_id for u in updates] == [pushed["update_id"]]
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.entities and message.entities[0].type == "bot_command"
    # not confirmed yet: delivered again; confirmed (offset): gone for good
    assert len(await bot.get_updates(timeout=0)) == 1
    assert await bot.get_updates(offset=pushed["update_id"] + 1, timeout=0) == []
    assert tg.pending_updates == 0
    # allowed_updates filters update types
    tg.user_message(CHAT, USER, "hello")
    assert await bot.get_updates(timeout=0, allowed_updates=["callback_query"]) == []
    assert len(await bot.get_updates(timeout=0, allowed_updates=["message"])) == 1


async def test_second_poller_conflicts(bot: Bot, tg: TelegramStandin) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(Exception, match="Conflict: terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)
    assert await second == []


async def test_abandoned_poll_is_not_an_error(tg: TelegramStandin) -> None:
    # a bot process killed mid-poll, then restarted: the old poll must not turn into a 409
    old = Bot(tg.token, session=FastSession(api=TelegramAPIServer.from_base(tg.base_url)))
    poll = asyncio.create_task(old.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    poll.cancel()
    await old.session.close()
    new = Bot(tg.token, session=FastSession(api=TelegramAPIServer.from_base(tg.base_url)))
    tg.user_message(CHAT, USER, "after restart")
    (update,) = await new.get_updates(timeout=1)
    assert update.message is not None and update.message.text == "after restart"
    await new.session.close()
    await tg.wait_for(lambda: any(c.description == "client disconnected" for c in tg.calls), timeout=2)
    assert tg.errors() == []


async def test_document_upload_is_stored(bot: Bot, tg: TelegramStandin) -> None:
    sent = await bot.send_document(
        CHAT, BufferedInputFile(b"report body", filename="отчёт.txt"), caption="<i>done</i>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "отчёт.txt"
    (message,) = tg.bot_messages(CHAT)
    assert message.document == ("отчёт.txt", b"report body")
    assert message.caption == "done" and message.text is None
    with pytest.raises(TelegramBadRequest, match="file must be non-empty"):
        await bot.send_document(CHAT, BufferedInputFile(b"", filename="empty.txt"))
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(CHAT, BufferedInputFile(b"not an image", filename="p.png"))


async def test_user_files_can_be_downloaded(bot: Bot, tg: TelegramStandin) -> None:
    update = Update.model_validate(tg.user_document(CHAT, USER, "data.csv", b"a,b\n1,2\n", caption="see"))
    assert update.message is not None and update.message.document is not None
    file = await bot.get_file(update.message.document.file_id)
    downloaded = await bot.download(file)
    assert downloaded is not None and downloaded.read() == b"a,b\n1,2\n"

    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") + (480).to_bytes(4, "big")
    photo_update = Update.model_validate(tg.user_photo(CHAT, USER, png))
    assert photo_update.message is not None and photo_update.message.photo
    largest = photo_update.message.photo[-1]
    assert (largest.width, largest.height) == (640, 480)
    downloaded = await bot.download(largest.file_id)
    assert downloaded is not None and downloaded.read() == png
    with pytest.raises(TelegramBadRequest, match="wrong file_id"):
        await bot.get_file("nope")


async def test_press_button_and_answer_twice(bot: Bot, tg: TelegramStandin) -> None:
    sent = await bot.send_message(CHAT, "choose", reply_markup=_keyboard("yes", "no"))
    query_id = tg.press_button(CHAT, USER, sent.message_id, "yes")
    (update,) = await bot.get_updates(timeout=0)
    assert update.callback_query is not None
    assert (update.callback_query.id, update.callback_query.data) == (query_id, "yes")
    assert isinstance(update.callback_query.message, Message) and update.callback_query.message.text == "choose"
    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_callback_query(query_id)
    assert tg.callback_answers()[query_id]["text"] == "ok"
    with pytest.raises(ValueError, match="no button"):
        tg.press_button(CHAT, USER, sent.message_id, "maybe")


async def test_forum_thread_round_trip(bot: Bot, tg: TelegramStandin) -> None:
    raw = tg.user_message(FORUM, USER, "in a topic", thread_id=42, is_forum=True, chat_title="Team")
    update = Update.model_validate(raw, context={"bot": bot})
    message = update.message
    assert message is not None
    assert (message.message_thread_id, message.is_topic_message, message.chat.type) == (42, True, "supergroup")
    assert message.chat.is_forum and message.chat.title == "Team"
    # Telegram marks topic messages as replies to the topic's creation message
    assert message.reply_to_message is not None and message.reply_to_message.forum_topic_created is not None

    reply = await message.answer("answer in topic")  # aiogram passes message_thread_id for topic messages
    assert (reply.message_thread_id, reply.is_topic_message) == (42, True)
    await bot.send_message(FORUM, "general")
    assert [m.text for m in tg.bot_messages(FORUM, 42)] == ["answer in topic"]
    assert [m.text for m in tg.bot_messages(FORUM, None)] == ["general"]
    with pytest.raises(TelegramBadRequest, match="Bad Request: message thread not found"):
        await bot.send_message(FORUM, "nowhere", message_thread_id=99)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_chat_action(FORUM, "typing", message_thread_id=99)
    assert await bot.send_chat_action(FORUM, "typing", message_thread_id=42)
    with pytest.raises(TelegramBadRequest, match="Bad Request: wrong parameter action in request"):
        await bot.send_chat_action(FORUM, "dancing")
    tg.delete_forum_topic(FORUM, 42)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await message.answer("topic is gone")


async def test_wait_for_text(bot: Bot, tg: TelegramStandin) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(CHAT, "the answer is 42")

    task = asyncio.create_task(later())
    found = await tg.wait_for_text(CHAT, "answer is", timeout=2)
    await task
    assert found.text == "the answer is 42"
    with pytest.raises(TimeoutError, match="no bot message containing 'missing'"):
        await tg.wait_for_text(CHAT, "missing", timeout=0.05)


async def test_http_protocol_details(tg: TelegramStandin) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{tg.base_url}/bot999:WRONG/getMe") as resp:
            assert (resp.status, await resp.json()) == (
                401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        async with http.get(f"{tg.base_url}/bot{tg.token}/noSuchMethod") as resp:
            assert resp.status == 404 and (await resp.json())["description"] == "Not Found"
        # method names are case-insensitive; JSON bodies and query strings work too
        async with http.post(f"{tg.base_url}/bot{tg.token}/SENDMESSAGE", json={"chat_id": CHAT, "text": "json"}) as r:
            assert (await r.json())["result"]["text"] == "json"
        async with http.get(f"{tg.base_url}/bot{tg.token}/sendMessage", params={"chat_id": CHAT, "text": "q"}) as r:
            assert (await r.json())["ok"]
        async with http.post(f"{tg.base_url}/bot{tg.token}/sendMessage", data={"chat_id": "404", "text": "x"}) as r:
            assert (r.status, (await r.json())["description"]) == (400, "Bad Request: chat not found")


async def test_outages(bot: Bot, tg: TelegramStandin) -> None:
    tg.set_down(True)
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(CHAT, "x")
    tg.set_down(True, mode="close")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(CHAT, "x")
    tg.set_down(True, mode="timeout")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.2)) as http:
        with pytest.raises(asyncio.TimeoutError):
            await http.post(f"{tg.base_url}/bot{tg.token}/getMe")
    tg.set_down(False)
    await bot.send_message(CHAT, "back")
    assert [m.text for m in tg.bot_messages(CHAT)] == ["back"]


def test_trimming_and_parse_mode_precedence() -> None:
    # parse_mode wins over entities, as in the Bot API
    text, entities = parse_formatted_text("<b>x</b>", "HTML", [{"type": "italic", "offset": 0, "length": 3}])
    assert (text, [e.type for e in entities]) == ("x", ["bold"])
    # leading blanks are trimmed only before the first entity
    assert parse_formatted_text("\n\n  hi ", None)[0] == "hi"


async def test_private_topics_as_in_threaded_mode(bot: Bot, tg: TelegramStandin) -> None:
    assert (await bot.get_me()).has_topics_enabled is False
    with pytest.raises(ValueError):
        tg.user_message(CHAT, USER, "in a topic", thread_id=5)
    tg.private_topics = True
    assert (await bot.get_me()).has_topics_enabled is True
    tg.user_message(CHAT, USER, "in a topic", thread_id=5)
    [update] = await bot.get_updates(timeout=0)
    message = update.message
    assert message.chat.type == "private" and message.message_thread_id == 5 and message.is_topic_message
    sent = await bot.send_message(CHAT, "answer", message_thread_id=5)
    assert sent.message_thread_id == 5 and sent.is_topic_message
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(CHAT, "nowhere", message_thread_id=99)


async def test_group_upgrade_service_messages_and_the_migrate_error(bot: Bot, tg: TelegramStandin) -> None:
    from aiogram.exceptions import TelegramMigrateToChat

    tg.user_message(-4001, USER, "hi", chat_type="group", chat_title="Team")
    tg.upgrade_group(-4001, -1004001, USER)
    updates = await bot.get_updates(timeout=0)
    assert [u.message.migrate_to_chat_id for u in updates[1:2]] == [-1004001]
    assert updates[2].message.migrate_from_chat_id == -4001 and updates[2].message.chat.type == "supergroup"
    with pytest.raises(TelegramMigrateToChat) as raised:
        await bot.send_message(-4001, "to the old id")
    assert raised.value.migrate_to_chat_id == -1004001
    assert "group chat was upgraded to a supergroup chat" in tg.errors()[0].description
    await bot.send_message(-1004001, "to the new id")


async def test_mentions_albums_voice_and_edits_look_as_telegram_sends_them(bot: Bot, tg: TelegramStandin) -> None:
    sent = tg.user_message(CHAT, USER, "😀 @claude_test_bot and /cmd@x and @ab and @alice_dev")
    tg.user_album(CHAT, USER, [b"a", b"b"], caption="two")
    tg.user_voice(CHAT, USER, b"ogg bytes", duration=4)
    tg.user_edit(CHAT, sent["message"]["message_id"], "edited @claude_test_bot")
    updates = await bot.get_updates(timeout=0)
    first = updates[0].message
    assert [(e.type, e.extract_from(first.text)) for e in first.entities] == [
        ("mention", "@claude_test_bot"), ("mention", "@alice_dev")
    ]
    album = [u.message for u in updates[1:3]]
    assert album[0].media_group_id == album[1].media_group_id and [m.caption for m in album] == ["two", None]
    assert updates[3].message.voice.duration == 4
    edited = updates[4].edited_message
    assert edited.message_id == first.message_id and edited.text == "edited @claude_test_bot" and edited.edit_date
    assert edited.entities[0].type == "mention"
