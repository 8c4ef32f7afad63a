"""What the progress and queue messages say: waiting for an answer, and a queue position that adds up."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.e2e.chat import wait_answer
from tests.e2e.harness import OWNER, BotProcess
from tests.e2e.test_phone_control import press, start_asking, wait_request
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

CHAT = OWNER
GROUP = -100910
TEAM = dict(chat_type="supergroup", chat_title="Team")


WAITING = "⏸ Waiting for your answer: Bash: touch waiting.txt"  # named: the request may be above or below


async def test_the_progress_message_names_the_request_it_waits_for(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await start_asking(bot)
    telegram.user_message(GROUP, OWNER, '#tool Bash {"command": "touch waiting.txt"}', **TEAM)
    request = await wait_request(telegram, GROUP, "touch waiting.txt")
    progress = await telegram.wait_for(
        lambda: next((m for m in telegram.bot_messages(GROUP) if WAITING in m.text), None), timeout=15
    )
    assert "🔧" not in progress.text and progress.buttons()  # not as if the tool ran; Stop still there
    await press(telegram, GROUP, OWNER, request, "Allow once")
    await wait_answer(telegram, GROUP, "tool result:")
    assert "Waiting for your answer" not in progress.text


async def test_the_draft_says_a_request_waits_while_the_request_is_a_real_message(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await start_asking(bot)
    telegram.user_message(CHAT, OWNER, '#tool Bash {"command": "touch waiting.txt"}')
    request = await wait_request(telegram, CHAT, "touch waiting.txt")
    assert request.buttons()
    await telegram.wait_for(lambda: any(WAITING in d.text for d in telegram.drafts_in(CHAT)), timeout=15)
    await press(telegram, CHAT, OWNER, request, "Allow once")
    answer = await wait_answer(telegram, CHAT, "tool result:")
    assert answer.edits == 0 and not [m for m in telegram.bot_messages(CHAT) if "⏳ Working" in (m.text or "")]


async def test_queue_notices_count_the_messages_ahead(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    telegram.user_message(CHAT, OWNER, "#slow 4 first")
    await claude_api.wait_for(lambda: any("first" in r.last_user_text for r in claude_api.main_requests()))
    telegram.user_message(CHAT, OWNER, "second")
    one = await wait_answer(telegram, CHAT, "Queued (position 1)")
    telegram.user_message(CHAT, OWNER, "third")
    two = await wait_answer(telegram, CHAT, "Queued (position 2)")
    assert one.text.startswith("⏳ Queued (position 1): I'll answer this after the current turn.")
    assert two.text == "⏳ Queued (position 2): after the current turn, Claude gets this together with the message before it."
    # They waited together, so they are answered together (one intent, one prompt).
    await telegram.wait_for(lambda: any(m.text.startswith("echo:") and "third" in m.text for m in telegram.bot_messages(CHAT)), timeout=60)


async def test_status_and_the_progress_message_agree_on_the_elapsed_time(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await start_asking(bot, TELEGRAM_DRAFTS="false")  # the progress message, as a group (or drafts off) shows it
    telegram.user_message(CHAT, OWNER, '#tool Bash {"command": "touch agree.txt"}')
    await wait_request(telegram, CHAT, "touch agree.txt")  # Claude is quiet now: only ticks move the progress
    progress = await telegram.wait_for(
        lambda: next((m for m in telegram.bot_messages(CHAT) if m.text.startswith("⏳ Working…")), None), timeout=15
    )
    await telegram.wait_for(lambda: "⏸" in progress.text, timeout=15)  # a tick happened (~5 s in)
    await asyncio.sleep(2.5)  # between two ticks: the progress shows an older time than the clock
    telegram.user_message(CHAT, OWNER, "/status")
    status = await wait_answer(telegram, CHAT, "State: running for")
    said = int(re.search(r"running for (\d+) s", status.text).group(1))  # type: ignore[union-attr]
    await telegram.wait_for(lambda: f"Working… {said}s" in progress.text or f"Working… {said + 1}s" in progress.text, timeout=5)
