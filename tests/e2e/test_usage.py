"""/usage and the daily budgets, end to end: costs come from the real CLI's results and survive restarts."""

from __future__ import annotations

import re

import pytest

from tests.e2e.chat import ask
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

CHAT = OWNER


def _today(usage: str, section: str) -> tuple[int, float]:
    """(tokens in, cost) of the 'Today' line under `section` of a /usage answer."""
    part = usage.split(section, 1)[1]
    match = re.search(r"Today: (\d+) turns? · ([\d,]+) tokens in · [\d,]+ out · \$([\d.]+)", part)
    assert match, usage
    return int(match.group(2).replace(",", "")), float(match.group(3))


async def test_usage_shows_tokens_and_cost_after_a_turn_and_after_a_restart(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    before = await ask(telegram, CHAT, "/usage", "Usage")
    assert "Today: 0 turns" in before
    await ask(telegram, CHAT, "count me", "echo: count me")
    after = await ask(telegram, CHAT, "/usage", "Usage")
    tokens, cost = _today(after, "This chat")
    assert tokens > 0 and cost > 0
    assert _today(after, "Whole bot") == (tokens, cost)
    assert "All time: 1 turn " in after
    await bot.restart()
    again = await ask(telegram, CHAT, "/usage", "Usage")
    assert _today(again, "This chat") == (tokens, cost)


async def test_a_budget_of_zero_refuses_the_next_turn(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    bot.extra_env["MAX_CHAT_COST_PER_DAY_USD"] = "0"
    await bot.start()
    refused = await ask(telegram, CHAT, "spend please", "daily budget")
    assert re.fullmatch(r"This chat has used its daily budget of \$0\.00; it resets at 00:00 UTC \(in .+\)\.", refused)
    # Every way of starting a turn is refused: an upload (not even saved) and a Claude Code command.
    seen = len(telegram.bot_messages(CHAT))
    telegram.user_document(CHAT, OWNER, "notes.txt", b"hello", caption="read this")
    await telegram.wait_for(lambda: len(telegram.bot_messages(CHAT)) > seen)
    assert "daily budget" in telegram.bot_messages(CHAT)[-1].text and not (bot.work_dir / "notes.txt").exists()
    await ask(telegram, CHAT, "/compact", "daily budget")
    assert claude_api.requests == []
    status = await ask(telegram, CHAT, "/status", "Status")
    assert "Chat budget today: $0.0000 left of $0.00" in status


async def test_a_bot_budget_is_checked_after_the_turn_that_reached_it(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    bot.extra_env["MAX_COST_PER_DAY_USD"] = "0.000001"  # any real turn costs more
    await bot.start()
    await ask(telegram, CHAT, "first one runs", "echo: first one runs")
    await ask(telegram, -100300, "other chat", "The bot has used its daily budget", chat_type="group", chat_title="Team")
    status = await ask(telegram, CHAT, "/status", "Status")
    assert "Bot budget today: $0.0000 left" in status
