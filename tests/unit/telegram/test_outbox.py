import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

import pytest
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity
from telegramify_markdown import utf16_len

from bot.sessions.keys import ChatKey
from bot.telegram.render import Rendered

KEY = ChatKey(1)
MARKUP = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Stop", callback_data="stop")]])


class FakeTime:
    """A clock that moves only when slept on; ``during_sleep`` runs while the outbox waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.during_sleep: Callable[[], None] | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.during_sleep is not None:
            self.during_sleep()
        self.now += seconds
        await asyncio.sleep(0)


class FakeSession(BaseSession):
    """Answers like the Bot API; a test queues errors for the next calls of a method."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self.clock = clock
        self.calls: list[tuple[float, object]] = []
        self.errors: dict[str, list[Callable[[object], Exception]]] = defaultdict(list)
        self.last_id = 100

    def fail(self, api_method: str, *errors: Callable[[object], Exception]) -> None:
        self.errors[api_method].extend(errors)

    def sent(self, api_method: str) -> list:
        return [m for _, m in self.calls if m.__api_method__ == api_method]

    async def make_request(self, bot, method, timeout=None):
        await asyncio.sleep(0)  # a real request lets other tasks run
        self.calls.append((self.clock(), method))
        if self.errors[method.__api_method__]:
            raise self.errors[method.__api_method__].pop(0)(method)
        if method.__api_method__ in ("sendMessage", "sendDocument"):
            self.last_id += 1
            chat = Chat(id=method.chat_id, type="private" if method.chat_id > 0 else "supergroup")
            return Message(message_id=self.last_id, date=datetime.now(), chat=chat, text=getattr(method, "text", None))
        return True

    async def stream_content(self, *args, **kwargs):
        yield b""

    async def close(self) -> None:
        pass


def retry_after(seconds):
    return lambda m: TelegramRetryAfter(m, "Too Many Requests: retry after", seconds)


def bad_request(description):
    return lambda m: TelegramBadRequest(m, f"Bad Request: {description}")


def network_error(m):
    return TelegramNetworkError(m, "Connection reset by peer")


def server_error(m):
    return TelegramServerError(m, "Bad Gateway")


def texts(env, api_method="editMessageText"):
    return [m.text for m in env.session.sent(api_method)]


async def test_send_passes_thread_reply_and_entities(env):
    key = ChatKey(-1001, 7)
    bold = [MessageEntity(type="bold", offset=0, length=2)]
    message_id = await env.boxes.send_text(key, "hi there", entities=bold, reply_to=5, reply_markup=MARKUP)
    [(_, method)] = env.session.calls
    assert method.__api_method__ == "sendMessage"
    assert (method.chat_id, method.message_thread_id, method.text) == (-1001, 7, "hi there")
    assert method.entities == bold and method.parse_mode is None
    assert method.reply_parameters.message_id == 5 and method.reply_parameters.allow_sending_without_reply
    assert method.reply_markup == MARKUP
    assert message_id == env.session.last_id


async def test_send_rendered(env):
    part = Rendered("code", [MessageEntity(type="pre", offset=0, length=4, language="py")])
    assert await env.boxes.send_rendered(KEY, part) is not None
    [method] = env.session.sent("sendMessage")
    assert method.entities == part.entities


async def test_pending_edits_are_merged_into_the_newest(env):
    message_id = await env.box.send_text(KEY, "v0")
    for i in range(1, 6):
        env.box.edit_text(KEY, message_id, f"v{i}", reply_markup=MARKUP)
    await env.box.flush()
    [edit] = env.session.sent("editMessageText")
    assert (edit.message_id, edit.text, edit.reply_markup) == (message_id, "v5", MARKUP)


async def test_merging_never_reorders_around_an_awaited_edit(env):
    other = await env.box.send_text(KEY, "other")
    message_id = await env.box.send_text(KEY, "v0")
    env.box.edit_text(KEY, other, "keeps the worker busy")
    env.box.edit_text(KEY, message_id, "a")
    awaited = asyncio.create_task(env.box.edit_text_now(KEY, message_id, "b"))
    await asyncio.sleep(0)
    env.box.edit_text(KEY, message_id, "c")
    assert await awaited is True
    await env.box.flush()
    assert texts(env) == ["keeps the worker busy", "b", "c"]  # "a" went stale unsent; "c" stays last


async def test_edit_equal_to_what_telegram_shows_is_skipped(env):
    message_id = await env.box.send_text(KEY, "same", reply_markup=MARKUP)
    env.box.edit_text(KEY, message_id, "same", reply_markup=MARKUP)
    await env.box.flush()
    assert await env.box.edit_text_now(KEY, message_id, "same", reply_markup=MARKUP) is True
    assert texts(env) == []
    env.box.edit_text(KEY, message_id, "same")  # dropping the keyboard is a change
    await env.box.flush()
    env.box.edit_text(KEY, message_id, "same")
    await env.box.flush()
    assert texts(env) == ["same"]


async def test_retry_after_is_honoured_and_the_chat_stays_silent(env):
    message_id = await env.box.send_text(KEY, "progress")
    env.session.calls.clear()
    env.session.fail("sendMessage", retry_after(7))

    def meanwhile():
        env.box.chat_action(KEY)  # dropped: the chat is throttled
        env.box.edit_text(KEY, message_id, "edited while waiting")  # queued behind

    env.time.during_sleep = meanwhile
    first = asyncio.create_task(env.box.send_text(KEY, "one"))
    second = asyncio.create_task(env.box.send_text(KEY, "two"))
    assert await first is not None and await second is not None
    await env.box.flush()
    calls = [(t, m.__api_method__, getattr(m, "text", None)) for t, m in env.session.calls]
    assert calls[0] == (0.0, "sendMessage", "one")
    assert calls[1] == (7.0, "sendMessage", "one")  # nothing at all in between
    assert [c[1:] for c in calls[2:]] == [("sendMessage", "two"), ("editMessageText", "edited while waiting")]
    assert calls[2][0] >= 8.0  # no burst right after the wait


async def test_private_and_group_pacing(env):
    await asyncio.gather(*(env.box.send_text(KEY, f"p{i}") for i in range(5)))
    assert [t for t, _ in env.session.calls] == [0, 0, 0, 1, 2]
    env.session.calls.clear()
    start = env.time.now
    group = ChatKey(-100)
    await asyncio.gather(*(env.boxes.send_text(group, f"g{i}") for i in range(7)))
    assert [round(t - start, 6) for t, _ in env.session.calls] == [0, 0, 0, 0, 0, 3, 6]


async def test_edits_count_against_the_rate(env):
    message_id = await env.box.send_text(KEY, "v0")
    for i in range(4):
        await env.box.edit_text_now(KEY, message_id, f"v{i + 1}")
    assert [t for t, _ in env.session.calls] == [0, 0, 0, 1, 2]


async def test_chat_action_is_best_effort(env):
    env.boxes.chat_action(ChatKey(1, 3))
    await env.box.flush()
    [action] = env.session.sent("sendChatAction")
    assert (action.action, action.message_thread_id) == ("typing", 3)
    await asyncio.gather(*(env.box.send_text(KEY, str(i)) for i in range(3)))
    env.box.chat_action(KEY)  # burst used up: dropped, not delayed
    await env.box.flush()
    assert len(env.session.sent("sendChatAction")) == 1
    env.time.now += 1
    env.box.chat_action(KEY, "upload_document")
    await env.box.flush()
    assert [a.action for a in env.session.sent("sendChatAction")] == ["typing", "upload_document"]


async def test_operations_keep_their_order(env):
    first = await env.box.send_text(KEY, "a")
    env.box.edit_text(KEY, first, "a2")
    second = asyncio.create_task(env.box.send_text(KEY, "b"))
    await asyncio.sleep(0)
    env.box.delete(KEY, first)
    third = await env.box.send_text(KEY, "c")
    assert await second is not None and third is not None
    order = [(m.__api_method__, getattr(m, "text", None)) for _, m in env.session.calls]
    assert order == [
        ("sendMessage", "a"),
        ("editMessageText", "a2"),
        ("sendMessage", "b"),
        ("deleteMessage", None),
        ("sendMessage", "c"),
    ]


async def test_delete_cancels_pending_edits(env):
    message_id = await env.box.send_text(KEY, "a")
    env.box.edit_text(KEY, message_id, "never shown")
    env.box.delete(KEY, message_id)
    await env.box.flush()
    assert [m.__api_method__ for _, m in env.session.calls] == ["sendMessage", "deleteMessage"]


async def test_a_message_is_deleted_once_however_often_it_is_asked(env):
    message_id = await env.box.send_text(KEY, "a notice")
    env.box.delete(KEY, message_id)
    env.box.delete(KEY, message_id)  # a second path dropping the same notice: Telegram would refuse it
    await env.box.flush()
    assert [m.__api_method__ for _, m in env.session.calls] == ["sendMessage", "deleteMessage"]


async def test_refused_formatting_is_resent_as_plain_text(env):
    env.session.fail("sendMessage", bad_request("can't parse entities: Unsupported start tag"))
    bold = [MessageEntity(type="bold", offset=0, length=4)]
    message_id = await env.box.send_text(KEY, "text with style", entities=bold, reply_markup=MARKUP)
    formatted, plain = env.session.sent("sendMessage")
    assert formatted.entities == bold
    assert (plain.text, plain.entities, plain.parse_mode, plain.reply_markup) == ("text with style", None, None, MARKUP)
    assert message_id == env.session.last_id

    env.session.fail("editMessageText", bad_request("can't find end of the entity starting at byte offset 3"))
    assert await env.box.edit_text_now(KEY, message_id, "edited text", entities=bold) is True
    formatted, plain = env.session.sent("editMessageText")
    assert formatted.entities == bold and plain.entities is None and plain.text == "edited text"


async def test_refused_html_is_resent_as_its_visible_text(env):
    env.session.fail("sendMessage", bad_request("can't parse entities: unclosed tag"))
    await env.box.send_text(KEY, "<b>bold</b> &amp; <i>more", parse_mode="HTML")
    assert texts(env, "sendMessage") == ["<b>bold</b> &amp; <i>more", "bold & more"]
    assert env.session.sent("sendMessage")[1].parse_mode is None


async def test_message_not_modified_is_not_an_error(env):
    message_id = await env.box.send_text(KEY, "a")
    env.session.fail("editMessageText", bad_request("message is not modified: specified new message content"))
    assert await env.box.edit_text_now(KEY, message_id, "b") is True
    env.box.edit_text(KEY, message_id, "b")  # now known to be shown
    await env.box.flush()
    assert len(env.session.calls) == 2


async def test_edit_of_a_vanished_message_sends_it_anew_and_later_edits_follow(env):
    old = await env.box.send_text(KEY, "progress")
    env.session.fail("editMessageText", bad_request("message to edit not found"))
    assert await env.box.edit_text_now(KEY, old, "final", reply_markup=MARKUP) is True
    resent = env.session.sent("sendMessage")[-1]
    assert (resent.text, resent.reply_markup) == ("final", MARKUP)
    new = env.session.last_id
    env.box.edit_text(KEY, old, "later")
    await env.box.flush()
    [_, later] = env.session.sent("editMessageText")
    assert (later.message_id, later.text) == (new, "later")


@pytest.mark.parametrize("error", [network_error, server_error])
async def test_network_and_server_errors_are_retried_with_backoff(env, error):
    env.session.fail("sendMessage", error, error, error, error)
    assert await env.box.send_text(KEY, "survives") == env.session.last_id
    assert texts(env, "sendMessage") == ["survives"] * 5
    assert env.time.sleeps == [1, 2, 4, 8]


async def test_a_long_outage_is_bounded(env):
    env.session.fail("sendMessage", *[network_error] * 1000)
    assert await env.box.send_text(KEY, "lost") is None
    assert 300 <= env.time.now <= 330
    assert max(env.time.sleeps) == 15
    env.session.errors.clear()
    assert await env.box.send_text(KEY, "the chat still works") is not None


async def test_a_superseded_edit_stops_retrying(env):
    message_id = await env.box.send_text(KEY, "v0")
    env.session.fail("editMessageText", network_error)
    env.time.during_sleep = lambda: env.box.edit_text(KEY, message_id, "new")
    env.box.edit_text(KEY, message_id, "old")
    await env.box.flush()
    env.time.during_sleep = None
    await env.box.flush()  # "new" was queued after the first flush began
    assert texts(env) == ["old", "new"]


async def test_other_refusals_are_logged_never_raised(env, caplog):
    env.session.fail("sendMessage", bad_request("chat not found"))
    assert await env.box.send_text(KEY, "plain") is None
    env.session.fail("sendMessage", bad_request("odd"), bad_request("odder"))
    bold = [MessageEntity(type="bold", offset=0, length=1)]
    assert await env.box.send_text(KEY, "styled", entities=bold) is None
    env.session.fail("sendMessage", lambda m: TelegramForbiddenError(m, "Forbidden: bot was blocked by the user"))
    assert await env.box.send_text(KEY, "blocked") is None
    env.session.fail("editMessageText", bad_request("odd"))
    assert await env.box.edit_text_now(KEY, 1, "plain edit") is False
    assert len(env.session.calls) == 5
    assert "bot was blocked" in caplog.text


async def test_overlong_text_is_split_not_refused(env):
    text = "\n".join(f"line {i}" for i in range(2000))
    last = await env.box.send_text(KEY, text, reply_to=9, reply_markup=MARKUP)
    parts = env.session.sent("sendMessage")
    assert len(parts) > 1 and all(utf16_len(p.text) <= 4096 for p in parts)
    assert "\n".join(p.text for p in parts) == text
    assert parts[0].reply_parameters.message_id == 9 and all(p.reply_parameters is None for p in parts[1:])
    assert parts[-1].reply_markup == MARKUP and all(p.reply_markup is None for p in parts[:-1])
    assert last == env.session.last_id


async def test_send_document(env):
    message_id = await env.boxes.send_document(ChatKey(-5, 2), "reply.md", b"# hi", caption="full", reply_to=3)
    [doc] = env.session.sent("sendDocument")
    assert (doc.document.filename, doc.document.data, doc.caption, doc.message_thread_id) == ("reply.md", b"# hi", "full", 2)
    assert doc.parse_mode is None and doc.reply_parameters.message_id == 3
    assert message_id == env.session.last_id


async def test_close_delivers_everything_queued(env):
    message_id = await env.box.send_text(KEY, "v0")
    group = ChatKey(-100)
    group_id = await env.boxes.send_text(group, "g0")
    env.boxes.edit_text(KEY, message_id, "v1")
    env.boxes.edit_text(group, group_id, "g1")
    env.boxes.delete(KEY, message_id - 1)
    await env.boxes.close()
    assert sorted(texts(env)) == ["g1", "v1"]
    assert len(env.session.sent("deleteMessage")) == 1


async def test_close_releases_callers_of_work_it_cannot_finish(env):
    env.session.fail("sendMessage", *[network_error] * 10_000)
    late = []

    def meanwhile():  # queued after close() began: close stops the worker in the middle of it
        if not late:
            late.append(asyncio.create_task(env.box.send_text(KEY, "late")))

    first = asyncio.create_task(env.box.send_text(KEY, "first"))
    await asyncio.sleep(0)
    env.time.during_sleep = meanwhile
    await env.boxes.close()
    assert await first is None
    assert await asyncio.wait_for(late[0], 1) is None
