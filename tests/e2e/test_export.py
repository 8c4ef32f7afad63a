"""/export end to end: the real CLI's transcript becomes one Markdown document."""

from __future__ import annotations

import pytest

from tests.e2e.chat import ask
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import END_MARKER, MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

CHAT = OWNER


async def test_export_sends_the_conversation_as_one_markdown_document(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    await ask(telegram, CHAT, "/export", "no conversation to export yet")
    await ask(telegram, CHAT, "hello export", "echo: hello export")
    await ask(telegram, CHAT, "#pwd", "pwd:")
    telegram.user_message(CHAT, OWNER, "#long 30000")  # long enough to come as a document itself
    await telegram.wait_for(lambda: any(m.document for m in telegram.bot_messages(CHAT)), timeout=60)

    telegram.user_message(CHAT, OWNER, "/export")
    message = await telegram.wait_for(
        lambda: next((m for m in telegram.bot_messages(CHAT) if m.document and m.document[0].startswith("conversation-")), None)
    )
    name, data = message.document
    assert name.startswith("conversation-") and name.endswith(".md")
    text = data.decode()
    assert text.index("## 🧑 User\n\nhello export") < text.index("## 🤖 Claude\n\necho: hello export")
    assert "- 🔧 Bash: pwd\n\n## 🧑 User" not in text  # the tool result is not shown as a user message
    assert "- 🔧 Bash: pwd" in text and f"pwd: {bot.work_dir}" in text
    assert text.count("## 🧑 User") == 3
    assert "line 00001" in text and END_MARKER in text  # the long answer, whole, in the same file
    assert [m.document[0] for m in telegram.bot_messages(CHAT) if m.document] == ["reply.md", name]
    assert message.caption == "💬 This chat's conversation."
