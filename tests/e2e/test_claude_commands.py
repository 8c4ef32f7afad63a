"""Claude Code's own slash commands, end to end: passed to the real CLI, which expands them."""

from __future__ import annotations

import pytest

from tests.e2e.chat import ask
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

CHAT = OWNER


async def test_a_projects_custom_command_reaches_claude_expanded(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    commands = bot.work_dir / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "greet.md").write_text("---\ndescription: Greet someone by name\n---\nPlease greet $ARGUMENTS warmly\n")
    await bot.start()

    # Before the chat's first turn: found by scanning the project.
    answer = await ask(telegram, CHAT, "/greet Bob", "Please greet Bob warmly")
    assert answer.startswith("echo: ")
    sent = [text for r in claude_api.requests if r.is_main for text in r.user_texts]
    assert "Please greet Bob warmly" in sent
    assert any("<command-name>/greet</command-name>" in text for text in sent)

    # A built-in that makes sense without a terminal.
    await ask(telegram, CHAT, "/context", "Context Usage")

    helped = await ask(telegram, CHAT, "/help", "Claude Code's commands here")
    folded = next(line for line in helped.splitlines() if line.startswith("Claude Code's commands here"))
    assert "/greet" in folded and "/compact" in folded  # one line; the menu says what each does
    menu = await telegram.wait_for(lambda: telegram.commands({"type": "chat", "chat_id": CHAT}) or None)
    names = [c["command"] for c in menu]
    assert {"help", "worktree", "greet", "compact", "context"} <= set(names)
    assert "clear" not in names  # a terminal command is not offered

    # In a group, addressed to this bot: passed on; addressed to another bot: not.
    group = dict(chat_type="group", chat_title="Team")
    await ask(telegram, -100500, "/greet@claude_test_bot Alice", "Please greet Alice warmly", **group)
    await ask(telegram, -100500, "/greet@other_bot Carol", "Unknown command", **group)
    assert not any("Carol" in text for r in claude_api.requests for text in r.user_texts)

    unknown = await ask(telegram, CHAT, "/nonexistent x", "Unknown command")
    assert unknown == "Unknown command /nonexistent. /help lists the commands."
    assert not any("/nonexistent" in text for r in claude_api.requests for text in r.user_texts)
    assert telegram.errors() == []
