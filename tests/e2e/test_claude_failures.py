"""When Claude Code fails, the chat hears why in one sentence and the log has it in full."""

from __future__ import annotations

import os

import pytest

from tests.e2e.chat import ask
from tests.e2e.harness import OWNER, BotProcess
from tests.e2e.test_faults import failed_turn
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e


async def test_an_unknown_model_is_named_in_the_chat_and_another_one_works(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    claude_api.unknown_models = {"claude-nope-9"}
    await bot.start()
    await ask(telegram, OWNER, "/model claude-nope-9", "Model is now claude-nope-9")
    await failed_turn(telegram, OWNER, "hello", "does not know the model claude-nope-9")
    assert "Claude Code reports model_not_found: There's an issue with the selected model (claude-nope-9)" in bot.log_tail(400)
    await ask(telegram, OWNER, "/model sonnet", "Model is now sonnet")
    await ask(telegram, OWNER, "again", "echo: again")


@pytest.mark.skipif(os.geteuid() != 0, reason="Claude Code refuses bypassPermissions only as root")
async def test_mode_does_not_offer_what_claude_code_would_refuse(bot: BotProcess, telegram: TelegramStandin) -> None:
    # Root, not declared a sandbox, and Claude Code root in its box too (no user of its own).
    bot.extra_env.update(IS_SANDBOX="", CLAUDE_PERMISSION_MODE="default", CLAUDE_CONFINEMENT="bubblewrap")
    await bot.start()
    menu = await ask(telegram, OWNER, "/mode", "Permission mode: default")
    assert "bypassPermissions" not in menu
    [message] = [m for m in telegram.bot_messages(OWNER) if m.text == menu]
    labels = [button["text"] for button in message.buttons()]
    assert labels and not any("bypassPermissions" in label for label in labels)
    refused = await ask(telegram, OWNER, "/mode bypassPermissions", "refuses")
    assert "unless IS_SANDBOX=1 is set" in refused
    assert "Permission mode: default" in await ask(telegram, OWNER, "/mode", "Permission mode:")
    await ask(telegram, OWNER, "still fine", "echo: still fine")
