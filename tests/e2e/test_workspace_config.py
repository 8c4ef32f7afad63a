"""A `.env` Claude writes into the workspace the bot starts in is never the bot's configuration (issue 18)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.chat import ask
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

# Read as configuration, either line would stop the start (the token's shape, a limit of 0).
DOTENV = "TELEGRAM_BOT_TOKEN=nonsense\nMAX_CONCURRENT_QUERIES=0\n"


async def test_a_dotenv_claude_writes_in_the_start_directory_is_ignored_and_the_bot_answers(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    # The shipped service's old shape: started in the workspace, settings from the per-user file.
    bot.start_dir = bot.work_dir
    bot.extra_env["TG_CLAUDE_CODE_CONFIG"] = ""
    await bot.start()
    dotenv = bot.work_dir / ".env"
    write = {"file_path": str(dotenv), "content": DOTENV}
    await ask(telegram, OWNER, "#tool Write " + json.dumps(write), "tool result")
    assert dotenv.read_text() == DOTENV  # Claude's write did happen

    await bot.restart()
    await bot.wait_output(f"note: {dotenv} lies inside a workspace, so it is not read as the bot's configuration")
    assert "config error" not in bot.start_output()
    assert "echo: still here" in await ask(telegram, OWNER, "still here", "echo: still here")
    assert telegram.errors() == []
