import asyncio
from collections import defaultdict
from datetime import datetime

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegramify_markdown import utf16_len

from bot.sessions.keys import ChatKey
from bot.telegram.outbox import Outboxes
from bot.telegram.render import render_markdown
from bot.telegram.reply import StreamingReply

KEY = ChatKey(1)
MARKUP = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Stop", callback_data="stop")]])


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeSession(BaseSession):
    """Answers like the Bot API, stamping each call with the test's clock; errors can be queued per method."""

    def __init__(self, clock) -> None:
        super().__init__()
        self.clock = clock
        self.calls: list[tuple[float, object]] = []
        self.errors = defaultdict(list)
        self.last_id = 500

    def sent(self, api_method: str) -> list:
        return [m for _, m in self.calls if m.__api_method__ == api_method]

    def fail(self, api_method: str, description: str) -> None:
        self.errors[api_method].append(description)

    async def make_request(self, bot, method, timeout=None):
        await asyncio.sleep(0)
        self.calls.append((self.clock(), method))
        if self.errors[method.__api_method__]:
            raise TelegramBadRequest(method, f"Bad Request: {self.errors[method.__api_method__].pop(0)}")
        if method.__api_method__ in ("sendMessage", "sendDocument"):
            self.last_id += 1
            return Message(message_id=self.last_id, date=datetime.now(), chat=Chat(id=method.chat_id, type="private"))
        return True

    async def stream_content(self, *args, **kwargs):
        yield b""

    async def close(self) -> None:
        pass


@pytest.fixture
def reply(outboxes, clock):
    return StreamingReply(outboxes, KEY, reply_to=77, stop_markup=MARKUP, edit_interval=1.0, clock=clock)


async def settle(outboxes):
    for _ in range(5):
        await asyncio.sleep(0.001)
    await outboxes.for_chat(KEY.chat_id).flush()


async def test_start_sends_progress_with_stop_button(reply, session, outboxes):
    await reply.start()
    await settle(outboxes)
    [progress] = session.sent("sendMessage")
    assert progress.text == "⏳ Working…"
    assert progress.reply_markup == MARKUP and progress.reply_parameters.message_id == 77
    assert reply.message_id == session.last_id
    assert [a.action for a in session.sent("sendChatAction")] == ["typing"]
    await reply.finish("done")


async def test_fast_stream_costs_at_most_one_edit_per_interval(reply, session, outboxes, clock):
    await reply.start()
    reply.set_status("🔧 Bash: pwd")
    reply.note("queued messages: 2")
    for i in range(50):  # five seconds of a fast stream
        clock.now += 0.1
        reply.append_text(f"chunk{i} ")
        await asyncio.sleep(0.001)
    await settle(outboxes)
    edits = [(t, m) for t, m in session.calls if m.__api_method__ == "editMessageText"]
    assert 4 <= len(edits) <= 6
    times = [t for t, _ in edits]
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(times, times[1:]))
    assert all(m.reply_markup == MARKUP and m.message_id == reply.message_id for _, m in edits)
    last = edits[-1][1].text
    assert last.startswith("⏳ Working… ") and "🔧 Bash: pwd\nqueued messages: 2\n\nchunk0 chunk1" in last
    assert len(session.sent("sendChatAction")) >= 2  # every 4.5 s
    await reply.finish("done")


async def test_waiting_for_an_answer_shows_instead_of_the_tool_until_answered(reply, session, outboxes, clock):
    await reply.start()
    reply.set_status("🔧 Bash: touch x")
    reply.set_waiting("Bash: touch x")
    clock.now += 1.5
    await settle(outboxes)
    waiting = session.sent("editMessageText")[-1].text
    assert "⏸ Waiting for your answer: Bash: touch x" in waiting and "🔧" not in waiting
    reply.set_waiting(None)
    clock.now += 1.5
    await settle(outboxes)
    answered = session.sent("editMessageText")[-1].text
    assert "Waiting" not in answered and "🔧 Bash: touch x" in answered
    await reply.finish("done")


async def test_a_turn_waiting_for_a_slot_says_so_in_its_progress_until_it_runs(reply, session, outboxes, clock):
    await reply.start()
    reply.set_waiting_for_slot("3 chats are using Claude right now (limit 3).")
    clock.now += 1.5
    await settle(outboxes)
    waiting = session.sent("editMessageText")[-1].text
    assert waiting.startswith("⏳ Waiting for a free slot… 1s\n3 chats are using Claude right now (limit 3).")
    reply.set_waiting_for_slot(None)
    clock.now += 1.5
    await settle(outboxes)
    assert session.sent("editMessageText")[-1].text == "⏳ Working… 3s"
    await reply.finish("done")


async def test_a_turn_waiting_for_the_desk_says_so_in_one_line_until_it_runs(reply, session, outboxes, clock):
    await reply.start()
    reply.set_waiting_for_desk(True)
    clock.now += 1.5
    await settle(outboxes)
    assert session.sent("editMessageText")[-1].text == "⏳ This conversation is busy at the desk; your message goes on when it finishes."
    reply.set_waiting_for_desk(False)
    clock.now += 1.5
    await settle(outboxes)
    assert session.sent("editMessageText")[-1].text == "⏳ Working… 3s"
    await reply.finish("done")


def test_progress_in_a_group_is_edited_at_half_its_sending_rate(outboxes):
    assert outboxes.progress_every(KEY.chat_id) == 1.0
    assert Outboxes(Bot("42:TEST"), group_rate=20 / 60).progress_every(-100) == 6.0


async def test_long_stream_shows_a_tail_within_the_limit(reply, session, outboxes, clock):
    await reply.start()
    reply.append_text("🎉" * 3000 + "x" * 5000 + "THE END")
    clock.now += 1.5
    reply.set_status("s" * 500)
    await settle(outboxes)
    [edit] = session.sent("editMessageText")
    assert utf16_len(edit.text) <= 4096
    assert "\n" + "s" * 199 + "…\n" in edit.text  # the status line is kept short
    assert edit.text.endswith("THE END") and "\n\n…" in edit.text
    await reply.finish("done")


async def test_finish_turns_the_progress_message_into_the_reply(reply, session, outboxes, clock):
    await reply.start()
    progress_id = reply.message_id
    reply.append_text("Hello")
    clock.now += 2
    await settle(outboxes)
    await reply.finish("**Hello** world")
    await settle(outboxes)
    final = session.sent("editMessageText")[-1]
    assert (final.message_id, final.text, final.reply_markup) == (progress_id, "Hello world", None)
    assert [e.type for e in final.entities] == ["bold"]
    assert len(session.sent("sendMessage")) == 1  # just the progress message
    assert reply.message_id == progress_id


async def test_finish_sends_the_rest_in_order(reply, session, outboxes):
    await reply.start()
    md = "\n\n".join(f"Part {i}: " + "text " * 500 for i in range(3))
    expected = render_markdown(md)
    assert len(expected) == 3
    await reply.finish(md)
    assert session.sent("editMessageText")[-1].text == expected[0].text
    assert [m.text for m in session.sent("sendMessage")[1:]] == [p.text for p in expected[1:]]


async def test_a_very_long_reply_becomes_preview_and_document(reply, session, outboxes):
    await reply.start()
    md = "\n\n".join(f"Section {i} " + "words " * 300 for i in range(20))
    await reply.finish(md)
    preview = session.sent("editMessageText")[-1]
    assert preview.text.startswith("Section 0") and preview.text.endswith("attached as reply.md.")
    [doc] = session.sent("sendDocument")
    assert (doc.document.filename, doc.document.data) == ("reply.md", md.encode())
    assert len(session.sent("sendMessage")) == 1


async def test_a_refused_document_still_delivers_the_text(reply, session, outboxes):
    await reply.start()
    md = "\n\n".join(f"Section {i} " + "words " * 300 for i in range(20))
    session.fail("sendDocument", "file is too big")
    await reply.finish(md)
    sent = [m.text for m in session.sent("sendMessage")[1:]]
    assert sent == [p.text for p in render_markdown(md)]


async def test_empty_final_uses_streamed_text_or_says_so(outboxes, session, clock):
    first = StreamingReply(outboxes, KEY, clock=clock)
    await first.start()
    first.append_text("streamed *answer*")
    await first.finish("   ")
    assert session.sent("editMessageText")[-1].text == "streamed answer"

    second = StreamingReply(outboxes, KEY, clock=clock)
    await second.start()
    await second.finish("")
    assert session.sent("editMessageText")[-1].text == "(no text reply)"


async def test_failed_final_edit_sends_anew_and_removes_the_progress(reply, session, outboxes):
    await reply.start()
    progress_id = reply.message_id
    session.fail("editMessageText", "something odd")
    await reply.finish("plain words")
    await settle(outboxes)
    resent = session.sent("sendMessage")[-1]
    assert (resent.text, resent.reply_parameters.message_id) == ("plain words", 77)
    [deleted] = session.sent("deleteMessage")
    assert deleted.message_id == progress_id
    assert reply.message_id == session.last_id


async def test_progress_deleted_by_the_user(reply, session, outboxes):
    await reply.start()
    session.fail("editMessageText", "message to edit not found")
    await reply.finish("the answer")
    assert session.sent("sendMessage")[-1].text == "the answer"


async def test_fail_shows_the_sentence_and_keeps_partial_text(reply, session, outboxes, clock):
    await reply.start()
    progress_id = reply.message_id
    reply.append_text("fragments of a dropped stream")
    await reply.fail("⚠️ Claude stopped: the CLI crashed.", "partial **text**")
    shown = session.sent("editMessageText")[-1]
    assert (shown.message_id, shown.text, shown.reply_markup) == (progress_id, "⚠️ Claude stopped: the CLI crashed.", None)
    partial = session.sent("sendMessage")[-1]
    assert partial.text == "partial text" and [e.type for e in partial.entities] == ["bold"]
    assert not any("fragments" in (m.text or "") for _, m in session.calls if hasattr(m, "text"))


async def test_finish_is_final(reply, session, outboxes, clock):
    await reply.start()
    await reply.finish("one")
    calls = len(session.calls)
    reply.append_text("late")
    clock.now += 10
    await reply.finish("two")
    await reply.fail("three", "")
    await settle(outboxes)
    assert len(session.calls) == calls


async def test_finish_without_a_progress_message(outboxes, session, clock):
    reply = StreamingReply(outboxes, KEY, reply_to=5, clock=clock)
    await reply.finish("just the answer")
    [sent] = session.sent("sendMessage")
    assert (sent.text, sent.reply_parameters.message_id) == ("just the answer", 5)
    assert reply.message_id == session.last_id
