"""Set-up and start-up as a new user meets them: `doctor`, a refused token, a Bot API that is not there yet."""

from __future__ import annotations

import asyncio

import pytest

from bot.doctor.checks import CHECKS
from tests.e2e.chat import ask
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

WRONG_TOKEN = "123456:WRONG-SECRET-never-printed"


async def test_doctor_passes_on_a_good_setup_and_reports_the_bot(bot: BotProcess, telegram: TelegramStandin) -> None:
    telegram.private_topics = True
    status, output = await bot.run_command("doctor")
    assert status == 0, output
    assert f"all {len(CHECKS)} checks passed" in output
    assert "bot token: accepted: the bot is @claude_test_bot" in output
    assert "privacy mode: on:" in output and "topics in private chats: enabled" in output
    assert "(Claude Code) at " in output and "Claude credentials: from ANTHROPIC_API_KEY" in output
    assert "Claude Code's box: Claude Code runs confined (" in output  # bubblewrap here (and a user of its own as root)
    assert telegram.token.split(":")[1] not in output
    assert [call.method for call in telegram.calls] == ["getMe"]


async def test_doctor_names_a_refused_token_and_never_prints_it(bot: BotProcess, telegram: TelegramStandin) -> None:
    bot.extra_env["TELEGRAM_BOT_TOKEN"] = WRONG_TOKEN
    status, output = await bot.run_command("doctor")
    assert status == 1, output
    failed = [line for line in output.splitlines() if line.startswith("[FAIL]")]
    assert len(failed) == 1, output
    assert "bot token: TELEGRAM_BOT_TOKEN: Telegram refuses the token" in failed[0]
    assert "fix: copy the token again from @BotFather" in output
    assert "WRONG-SECRET" not in output


async def test_a_refused_token_at_start_is_one_line_and_exit_2(bot: BotProcess, telegram: TelegramStandin) -> None:
    bot.extra_env.update(TELEGRAM_BOT_TOKEN=WRONG_TOKEN, LOG_LEVEL="INFO")  # the harness's DEBUG adds asyncio's line
    await bot.start(wait=False)
    assert bot.process is not None
    assert await asyncio.wait_for(bot.process.wait(), timeout=60) == 2
    lines = bot.start_output().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: TELEGRAM_BOT_TOKEN: Telegram refuses the token")
    assert "WRONG-SECRET" not in lines[0]


@pytest.mark.parametrize("outage", ["refused", "500"])
async def test_with_the_bot_api_down_at_start_the_bot_waits_and_then_serves(
    bot: BotProcess, telegram: TelegramStandin, outage: str
) -> None:
    if outage == "refused":
        await telegram.refuse_connections(True)  # nothing listens: the network is not up yet
    else:
        telegram.set_down(True)  # Telegram answers 500
    await bot.start(wait=False)
    await bot.wait_output("is not reachable")
    await asyncio.sleep(2)  # it keeps trying (a retry or two) and does not give up meanwhile
    assert not bot.exited()
    polls = telegram.polls_started
    if outage == "refused":
        await telegram.refuse_connections(False)
    else:
        telegram.set_down(False)
    await bot.wait_polling(polls, timeout=60)
    await ask(telegram, OWNER, "hello after the outage", "echo: hello after the outage")
    output = bot.start_output()
    assert output.count("is not reachable") == 1, output
    assert "Traceback" not in output
