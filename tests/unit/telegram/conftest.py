"""Fixtures shared by the outbox and reply tests (and their draft tests): a fake Bot API session and clock."""

from types import SimpleNamespace

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties

from bot.telegram.outbox import Outboxes
from tests.unit.telegram import test_outbox, test_reply


@pytest.fixture
def clock():
    return test_reply.FakeClock()


@pytest.fixture
def session(clock):
    return test_reply.FakeSession(clock)


@pytest.fixture
def outboxes(session):
    # Pacing is the outbox's business (tested there); here it must not slow the view down.
    return Outboxes(Bot("42:TEST", session=session), private_rate=1000, private_burst=1000)


@pytest.fixture
def env():
    fake_time = test_outbox.FakeTime()
    session = test_outbox.FakeSession(fake_time.clock)
    # A bot-wide default parse mode must not leak into entity-formatted sends.
    bot = Bot("42:TEST", session=session, default=DefaultBotProperties(parse_mode="HTML"))
    boxes = Outboxes(bot, clock=fake_time.clock, sleep=fake_time.sleep)
    return SimpleNamespace(time=fake_time, session=session, boxes=boxes, box=boxes.for_chat(test_outbox.KEY.chat_id))
