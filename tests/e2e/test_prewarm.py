"""After a restart the most recently active chats find their Claude Code already running."""

from __future__ import annotations

import pytest

from tests.e2e.chat import ask
from tests.e2e.harness import BotProcess
from tests.e2e.procs import cli_processes, cmdline
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

CHATS = [-100501, -100502, -100503]  # oldest activity first


async def test_recent_chats_get_their_cli_prestarted_and_answer_from_it(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    bot.extra_env["MAX_LIVE_CLIENTS"] = "3"  # room for two pre-starts: one place stays free
    await bot.start()
    for chat in CHATS:
        await ask(telegram, chat, f"first in {chat}", f"echo: first in {chat}", chat_type="group", chat_title=f"G{chat}")
    await bot.restart()
    await bot.wait_output("pre-started Claude Code for 2 of the 2 most recently active chats")
    assert bot.process is not None
    warm = cli_processes(bot.process.pid)
    assert len(warm) == 2, [cmdline(pid) for pid in warm]
    assert "MAX_LIVE_CLIENTS 3 (set)" in bot.start_output()
    # The most recent chat answers from its running CLI (no new process), in the same conversation.
    await ask(telegram, CHATS[-1], "#history", "history:", chat_type="group", chat_title=f"G{CHATS[-1]}")
    assert sorted(cli_processes(bot.process.pid)) == sorted(warm)
    assert f"first in {CHATS[-1]}" in claude_api.main_requests()[-1].user_texts[0]
    # The oldest one was not pre-started: it starts its own CLI in the free place, without waiting.
    await ask(telegram, CHATS[0], "late", "echo: late", chat_type="group", chat_title=f"G{CHATS[0]}")
    assert len(cli_processes(bot.process.pid)) == 3
