"""Topics in a private chat (Bot API 9.3 Threaded Mode): each topic is its own session, like a forum topic."""

from __future__ import annotations

import pytest

from tests.e2e.chat import ask, wait_answer
from tests.e2e.harness import OWNER, BotProcess
from tests.e2e.test_phone_control import press, start_asking
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e


async def test_two_topics_of_a_private_chat_keep_separate_conversations(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    telegram.private_topics = True
    await bot.start()
    await ask(telegram, OWNER, "topic ten kiwi", "echo: topic ten kiwi", thread_id=10)
    await ask(telegram, OWNER, "topic twenty plum", "echo: topic twenty plum", thread_id=20)
    await ask(telegram, OWNER, "main chat fig", "echo: main chat fig")
    ten = await ask(telegram, OWNER, "#history", "history:", thread_id=10)
    twenty = await ask(telegram, OWNER, "#history", "history:", thread_id=20)
    main = await ask(telegram, OWNER, "#history", "history:")
    assert "kiwi" in ten and "plum" not in ten and "fig" not in ten
    assert "plum" in twenty and "kiwi" not in twenty
    assert "fig" in main and "kiwi" not in main and "plum" not in main
    for thread, words in ((10, "kiwi"), (20, "plum"), (None, "fig")):
        assert any(words in m.text for m in telegram.bot_messages(OWNER, thread) if m.text)
    await telegram.wait_for(lambda: len(bot.session_files()) == 3, timeout=5)  # debounced writes
    assert bot.session_files() == sorted([f"{OWNER}.json", f"{OWNER}_10.json", f"{OWNER}_20.json"])
    assert telegram.errors() == []


async def test_a_request_and_its_answer_stay_in_the_topic(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    telegram.private_topics = True
    await start_asking(bot)
    telegram.user_message(OWNER, OWNER, '#tool Bash {"command": "touch topic.txt"}', thread_id=7)
    request = await telegram.wait_for(
        lambda: next((m for m in telegram.bot_messages(OWNER, 7) if any("Allow" in b["text"] for b in m.buttons())), None),
        timeout=60,
    )
    await press(telegram, OWNER, OWNER, request, "Allow")
    await wait_answer(telegram, OWNER, "tool result:", thread_id=7, timeout=60)
    assert all(m.thread_id == 7 for m in telegram.bot_messages(OWNER))  # progress, request, answer: all in the topic
    assert telegram.errors() == []
