"""The core bot, end to end: the real bot process, the real Claude Code CLI, local stand-ins."""

from __future__ import annotations

import json

import pytest

from tests.e2e.chat import ask, squash, wait_answer
from tests.e2e.harness import OWNER, STRANGER, BotProcess
from tests.standins.messages_api import MessagesStandin, long_text
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

CHAT_A = OWNER  # the owner's private chat
CHAT_B = -100200  # a group


async def test_two_chats_keep_separate_conversations(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    await ask(telegram, CHAT_A, "alpha one", "echo: alpha one")
    await ask(telegram, CHAT_B, "bravo one", "echo: bravo one", chat_type="group", chat_title="Team")
    history_a = await ask(telegram, CHAT_A, "#history", "history:")
    history_b = await ask(telegram, CHAT_B, "#history", "history:", chat_type="group", chat_title="Team")
    assert "alpha one" in history_a and "bravo one" not in history_a
    assert "bravo one" in history_b and "alpha one" not in history_b
    await telegram.wait_for(lambda: len(bot.session_files()) == 2, timeout=5)  # debounced writes
    assert bot.session_files() == sorted([f"{CHAT_A}.json", f"{CHAT_B}.json"])
    assert telegram.errors() == []


async def test_stranger_is_refused_once_and_leaves_no_trace(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    for text in ["hello", "/status", "/cd /"]:
        telegram.user_message(STRANGER, STRANGER, text)
    await wait_answer(telegram, STRANGER, "private bot")
    await ask(telegram, CHAT_A, "after stranger", "echo: after stranger")  # the bot processed everything before this
    refusals = telegram.bot_messages(STRANGER)
    assert len(refusals) == 1
    assert all("hello" not in text for r in claude_api.requests for text in r.user_texts)
    await telegram.wait_for(lambda: bot.session_files(), timeout=5)  # debounced write
    assert bot.session_files() == [f"{CHAT_A}.json"]


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_conversation_survives_restart(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin, how: str) -> None:
    await bot.start()
    await ask(telegram, CHAT_A, "remember kiwi", "echo: remember kiwi")
    if how == "SIGKILL":
        # The session id must be on disk within the debounce window after the reply.
        await telegram.wait_for(lambda: json.loads((bot.session_dir / f"{CHAT_A}.json").read_text()).get("session_id") if (bot.session_dir / f"{CHAT_A}.json").exists() else None, timeout=5)
        await bot.kill()
    else:
        assert await bot.stop() == 0
    await bot.start()
    history = await ask(telegram, CHAT_A, "#history", "history:")
    assert "remember kiwi" in history


async def test_cd_makes_the_real_cli_run_in_each_chats_directory(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    (bot.work_dir / "alpha").mkdir(parents=True)
    (bot.work_dir / "bravo" / "deep").mkdir(parents=True)
    await bot.start()
    await ask(telegram, CHAT_A, "/cd alpha", "Now working in")
    await ask(telegram, CHAT_B, "/cd bravo/deep", "Now working in", chat_type="group", chat_title="Team")
    pwd_a = await ask(telegram, CHAT_A, "#pwd", "pwd:")
    pwd_b = await ask(telegram, CHAT_B, "#pwd", "pwd:", chat_type="group", chat_title="Team")
    assert pwd_a.strip().endswith(str(bot.work_dir / "alpha"))
    assert pwd_b.strip().endswith(str(bot.work_dir / "bravo" / "deep"))
    # Bad input changes nothing and says why in one sentence.
    refused = await ask(telegram, CHAT_A, "/cd ../..", "outside the allowed directories")
    assert "Traceback" not in refused
    await ask(telegram, CHAT_A, "/cd nowhere", "does not exist")
    shown = await ask(telegram, CHAT_A, "/cd", "This chat works in")
    assert str(bot.work_dir / "alpha") in shown
    # The conversation continued across the directory change.
    history = await ask(telegram, CHAT_A, "#history", "history:")
    assert "#pwd" in history


async def test_new_affects_one_chat_and_resume_brings_it_back(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    await ask(telegram, CHAT_A, "first topic mango", "echo: first topic mango")
    await ask(telegram, CHAT_B, "group topic papaya", "echo: group topic papaya", chat_type="group", chat_title="Team")
    await ask(telegram, CHAT_A, "/new", "fresh conversation")
    fresh = await ask(telegram, CHAT_A, "#history", "history:")
    assert "mango" not in fresh
    group = await ask(telegram, CHAT_B, "#history", "history:", chat_type="group", chat_title="Team")
    assert "papaya" in group
    telegram.user_message(CHAT_A, OWNER, "/resume")
    picker = await telegram.wait_for(lambda: next((m for m in telegram.bot_messages(CHAT_A) if m.reply_markup and "Pick a conversation" in m.text), None))
    buttons = [b for row in picker.reply_markup["inline_keyboard"] for b in row]
    assert any("mango" in b["text"] for b in buttons)
    assert not any("papaya" in b["text"] for b in buttons)  # owned by another chat
    mango = next(b for b in buttons if "mango" in b["text"])
    telegram.press_button(CHAT_A, OWNER, picker.message_id, mango["callback_data"])
    await wait_answer(telegram, CHAT_A, "Resumed")
    resumed = await ask(telegram, CHAT_A, "#history again", "history:")
    assert "mango" in resumed


async def test_forum_topics_are_separate_sessions(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    forum = -1009000
    topic = dict(chat_type="supergroup", is_forum=True, chat_title="Forum")
    await bot.start()
    await ask(telegram, forum, "topic three lemon", "echo: topic three lemon", thread_id=3, **topic)
    await ask(telegram, forum, "topic five lime", "echo: topic five lime", thread_id=5, **topic)
    three = await ask(telegram, forum, "#history", "history:", thread_id=3, **topic)
    assert "lemon" in three and "lime" not in three
    assert all(m.thread_id in (3, 5) for m in telegram.bot_messages(forum))
    await telegram.wait_for(lambda: {f"{forum}_3.json", f"{forum}_5.json"} <= set(bot.session_files()), timeout=5)


async def test_long_and_markup_heavy_replies_arrive_whole(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_message(CHAT_A, OWNER, "#long 10000")
    # The progress message streams the end first ("…line 00167 …END-OF-REPLY"); the answer follows.
    await telegram.wait_for(
        lambda: squash(long_text(10000)) in squash("".join(m.text for m in telegram.bot_messages(CHAT_A) if not m.deleted)),
        timeout=60,
    )
    assert all(len(m.text) <= 4096 for m in telegram.bot_messages(CHAT_A))
    telegram.user_message(CHAT_A, OWNER, "#markup")
    await telegram.wait_for(lambda: sum("END-OF-REPLY" in m.text for m in telegram.bot_messages(CHAT_A)) >= 2, timeout=60)
    markup = telegram.bot_messages(CHAT_A)[-1].text
    for fragment in ["a < b && c > d", "<div>"]:
        assert fragment in markup
    assert telegram.errors() == []



async def test_very_long_reply_becomes_a_document_with_a_preview(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_message(CHAT_A, OWNER, "#long 40000")
    document = await telegram.wait_for(lambda: next((m for m in telegram.bot_messages(CHAT_A) if m.document), None), timeout=60)
    name, data = document.document
    assert name.endswith(".md")
    assert squash(long_text(40000)) in squash(data.decode())
    preview = [m for m in telegram.bot_messages(CHAT_A) if not m.document and "line 00001" in m.text]
    assert preview and all(len(m.text or "") <= 4096 for m in telegram.bot_messages(CHAT_A))
    assert telegram.errors() == []
