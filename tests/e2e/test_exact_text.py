"""Exact text (issue 10): Claude's answer reaches the chat with no character lost, hidden or refused."""

from __future__ import annotations

import pytest

from tests.e2e.chat import wait_answer
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin, Reply
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

ANSWER = (
    "Run `echo $HOME/$USER`; it costs $5 a month.\n\n"
    "Use a || b, or true || false.\n\n"
    "Open [the app](http://localhost:PORT/app) or [docs](${HOST}/docs), **bold stays**.\n\n"
    "```go extra words\nfunc f() {\n\treturn\n}\n```\n\n"
    "- [ ] open\n- [x] done"
)


async def test_dollars_bars_bad_links_and_tabs_survive(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    claude_api.script = lambda body: Reply.text_reply(ANSWER)
    await bot.start()
    telegram.user_message(OWNER, OWNER, "show me")
    reply = await wait_answer(telegram, OWNER, "✅ done", timeout=60)  # only the rendered reply has it
    text = reply.text
    assert "echo $HOME/$USER" in text
    assert "a || b, or true || false" in text
    assert "the app (http://localhost:PORT/app)" in text and "docs (${HOST}/docs)" in text
    assert "func f() {\n    return\n}" in text and "\t" not in text
    assert "⬜ open" in text and "✅ done" in text
    kinds = {(e.type, e.language) for e in reply.entities}
    assert ("bold", None) in kinds and ("pre", "go") in kinds
    assert not any(e.type in ("spoiler", "text_link") for e in reply.entities)
    assert telegram.errors() == []
