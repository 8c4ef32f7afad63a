"""One intent, one prompt (issue 10): pastes, albums and messages that waited together are one turn."""

from __future__ import annotations

import base64

import pytest

from tests.e2e.chat import wait_answer
from tests.e2e.harness import OWNER, BotProcess
from tests.e2e.test_phone_control import JPEG
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e


def requests_with(claude_api: MessagesStandin, word: str) -> list:
    return [r for r in claude_api.main_requests() if any(word in t for t in r.prompt_texts)]


async def test_a_three_part_paste_is_one_request(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    parts = [f"PART{i} " + "x" * 4089 for i in range(1, 3)] + ["PART3 the end"]
    for part in parts:
        telegram.user_message(OWNER, OWNER, part)
    await wait_answer(telegram, OWNER, "PART3 the end", timeout=60)
    [request] = requests_with(claude_api, "PART1")
    prompt = "\n".join(request.prompt_texts)
    assert all(part in prompt for part in parts)
    assert prompt.index("PART1") < prompt.index("PART2") < prompt.index("PART3")
    assert requests_with(claude_api, "PART3") == [request]


async def test_a_three_photo_album_is_one_request_with_three_images(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    telegram.user_album(OWNER, OWNER, [JPEG, JPEG, JPEG], caption="compare these")
    await wait_answer(telegram, OWNER, "echo: compare these", timeout=60)
    [request] = requests_with(claude_api, "compare these")
    last_user = [m for m in request.body["messages"] if m["role"] == "user"][-1]
    images = [b for b in last_user["content"] if isinstance(b, dict) and b.get("type") == "image"]
    assert len(images) == 3 and all(b["source"]["data"] == base64.b64encode(JPEG).decode() for b in images)
    assert len(list(bot.work_dir.glob("photo-*.jpg"))) == 3
    assert len(claude_api.main_requests()) == 1


async def test_three_quick_messages_cost_one_turn(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_message(OWNER, OWNER, "#slow 3 warm up")
    await claude_api.wait_for(lambda: requests_with(claude_api, "warm up"))
    for text in ("fix the login bug", "it is in auth.py", "and add a test"):
        telegram.user_message(OWNER, OWNER, text)
    await telegram.wait_for(lambda: len([m for m in telegram.bot_messages(OWNER) if "Queued" in m.text]) == 3, timeout=30)
    notice = next(m for m in telegram.bot_messages(OWNER) if "Queued (position 2)" in m.text)
    assert "together" in notice.text
    await wait_answer(telegram, OWNER, "and add a test", timeout=60)
    [request] = requests_with(claude_api, "fix the login bug")
    prompt = "\n".join(request.prompt_texts)
    assert prompt.index("fix the login bug") < prompt.index("it is in auth.py") < prompt.index("and add a test")
    assert len(claude_api.main_requests()) == 2  # the warm-up and one turn for all three
    await telegram.wait_for(lambda: not any("Queued" in m.text for m in telegram.bot_messages(OWNER)), timeout=10)
    merged = [m for m in telegram.bot_messages(OWNER) if "Sent to Claude together" in m.text]
    assert len(merged) == 2 and not any(m.buttons() for m in merged)  # each message is answered, none twice
