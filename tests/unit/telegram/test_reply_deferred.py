"""StreamingReply with a deferred progress message: a quick turn is one message, a slow one gets the live view."""

from __future__ import annotations

import asyncio

import pytest

from bot.telegram.outbox import Outboxes
from bot.telegram.reply import StreamingReply
from tests.unit.telegram.test_reply import KEY, MARKUP, FakeClock, FakeSession, settle

SHOW_AFTER = 1.0


class GatedSession(FakeSession):
    """A Bot API whose sendMessage can be held in flight."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.gate = asyncio.Event()
        self.gate.set()
        self.in_flight = asyncio.Event()

    async def make_request(self, bot, method, timeout=None):  # type: ignore[no-untyped-def]
        if method.__api_method__ == "sendMessage":
            self.in_flight.set()
            await self.gate.wait()
        return await super().make_request(bot, method, timeout)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def session(clock: FakeClock) -> GatedSession:
    return GatedSession(clock)


@pytest.fixture
def outboxes(session: GatedSession) -> Outboxes:
    from aiogram import Bot

    return Outboxes(Bot("42:TEST", session=session), private_rate=1000, private_burst=1000)


@pytest.fixture
def reply(outboxes: Outboxes, clock: FakeClock) -> StreamingReply:
    return StreamingReply(outboxes, KEY, reply_to=77, stop_markup=MARKUP, show_after=SHOW_AFTER, clock=clock)


async def test_a_quick_turn_is_one_message(reply: StreamingReply, session: GatedSession, outboxes: Outboxes, clock: FakeClock) -> None:
    await reply.start()
    reply.append_text("the answer")
    clock.now += SHOW_AFTER / 2
    await reply.finish("the **answer**")
    await settle(outboxes)
    [sent] = [method for _, method in session.calls]
    assert sent.__api_method__ == "sendMessage"
    assert (sent.text, sent.reply_parameters.message_id, sent.reply_markup) == ("the answer", 77, None)


async def test_a_slow_turn_shows_progress_with_the_text_so_far(reply: StreamingReply, session: GatedSession, outboxes: Outboxes, clock: FakeClock) -> None:
    await reply.start()
    reply.append_text("partial")
    clock.now += SHOW_AFTER
    reply.append_text(" words")  # wakes the view
    await session.in_flight.wait()
    await settle(outboxes)
    [progress] = session.sent("sendMessage")
    assert progress.text.startswith("⏳ Working… 1s") and progress.text.endswith("partial words")
    assert progress.reply_markup == MARKUP and progress.reply_parameters.message_id == 77
    await reply.finish("done")
    [final] = session.sent("editMessageText")
    assert (final.message_id, final.text, final.reply_markup) == (session.last_id, "done", None)
    assert len(session.sent("sendMessage")) == 1


async def test_a_turn_ending_while_the_progress_message_is_sent_edits_that_message(
    reply: StreamingReply, session: GatedSession, outboxes: Outboxes, clock: FakeClock
) -> None:
    await reply.start()
    session.gate.clear()
    clock.now += SHOW_AFTER
    reply.append_text("x")
    await session.in_flight.wait()  # the progress message is on its way
    finish = asyncio.create_task(reply.finish("final words"))
    await asyncio.sleep(0.01)
    session.gate.set()
    await finish
    await settle(outboxes)
    [progress] = session.sent("sendMessage")  # no second message, no "Working…" left behind
    [final] = session.sent("editMessageText")
    assert (final.message_id, final.text) == (session.last_id, "final words")
    assert reply.message_id == session.last_id
