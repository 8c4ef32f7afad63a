"""Telegram as it is now (issue 19): a private chat sees a turn as a draft with Telegram's own stop button,
the answer arrives as a new message; groups keep the progress message; a long turn ends with a new message."""

from __future__ import annotations

import pytest

from tests.e2e.chat import ask, is_progress, wait_answer
from tests.e2e.harness import OWNER, STRANGER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import BotMessage, TelegramStandin

pytestmark = pytest.mark.e2e

GROUP = -100900
TEAM = dict(chat_type="supergroup", chat_title="Team")
WORDS = " ".join(f"w{n:02d}" for n in range(30)) + " THE-END"  # streamed over the #slow seconds; THE-END last


def sends(telegram: TelegramStandin, chat: int) -> list[str]:
    """The chat's draft and message sends that Telegram accepted, in order."""
    wanted = {"sendMessageDraft", "sendMessage"}
    return [c.method for c in telegram.calls if c.method in wanted and c.ok and c.params.get("chat_id") == chat]


async def test_a_slow_private_answer_streams_as_drafts_then_arrives_as_one_new_message(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    asked = telegram.user_message(OWNER, OWNER, f"#slow 4 {WORDS}")["message"]["message_id"]
    answer = await wait_answer(telegram, OWNER, "THE-END", timeout=60)
    drafts = telegram.drafts_in(OWNER)
    assert drafts[0].text == ""  # shown at once: Telegram's "Thinking…"
    assert len({d.text for d in drafts if "w0" in d.text}) >= 2, [d.text for d in drafts]  # the text as it was written
    assert len({d.draft_id for d in drafts}) == 1 and all(d.can_stop for d in drafts)  # one animated draft, stoppable
    # The answer is a new message (the phone notifies), never edited into existence; no progress message at all.
    assert telegram.bot_messages(OWNER, include_deleted=True) == [answer]
    assert answer.edits == 0 and answer.reply_to_message_id == asked
    # No draft of the turn after its answer: the next turn's answer is the next thing the chat is sent.
    await ask(telegram, OWNER, "and then", "echo: and then")
    order = sends(telegram, OWNER)
    after_answer = order[order.index("sendMessage") + 1 :]
    assert [d for d in telegram.drafts_in(OWNER) if d.draft_id == drafts[0].draft_id][-1] == drafts[-1]
    assert after_answer and after_answer[-1] == "sendMessage"
    assert telegram.errors() == [] and telegram.flood_violations() == []


async def progress_message(telegram: TelegramStandin, chat_id: int) -> BotMessage:
    """The chat's progress message, once it is there."""
    return await telegram.wait_for(lambda: next((m for m in telegram.bot_messages(chat_id) if is_progress(m)), None), timeout=60)


async def slow_group_turn(bot: BotProcess, telegram: TelegramStandin, seconds: int) -> BotMessage:
    """The bot started and a group turn streaming for ``seconds``: its progress message."""
    await bot.start()
    telegram.user_message(GROUP, OWNER, f"#slow {seconds} {WORDS}", **TEAM)
    return await progress_message(telegram, GROUP)


async def test_a_private_chat_topic_streams_in_its_topic(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    telegram.private_topics = True
    await bot.start()
    telegram.user_message(OWNER, OWNER, f"#slow 3 {WORDS}", thread_id=7)
    answer = await wait_answer(telegram, OWNER, "THE-END", thread_id=7, timeout=60)
    assert telegram.drafts_in(OWNER) and telegram.drafts_in(OWNER) == telegram.drafts_in(OWNER, 7)
    assert any("w0" in d.text for d in telegram.drafts_in(OWNER, 7))
    assert answer.thread_id == 7 and answer.edits == 0
    assert telegram.errors() == []


async def test_a_group_keeps_the_progress_message_and_no_draft_is_tried(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    progress = await slow_group_turn(bot, telegram, 3)
    await telegram.wait_for(lambda: "THE-END" in progress.text and not is_progress(progress), timeout=60)
    assert telegram.calls_to("sendMessageDraft") == [] and telegram.errors() == []


async def test_telegram_stop_on_the_draft_stops_the_turn_like_stop(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    telegram.user_message(OWNER, OWNER, f"#slow 30 {WORDS}")
    draft = await telegram.wait_for(lambda: next((d for d in telegram.drafts_in(OWNER) if "w02" in d.text), None), timeout=60)
    telegram.user_message(OWNER, OWNER, "queued behind")
    await telegram.wait_for_text(OWNER, "Queued", timeout=30)
    telegram.stop_draft(OWNER, draft.draft_id)
    stopped = await wait_answer(telegram, OWNER, "⏹ Stopped.", timeout=30)
    assert "w01" in stopped.text and "THE-END" not in stopped.text and stopped.edits == 0  # the answer so far, kept
    await wait_answer(telegram, OWNER, "echo: queued behind", timeout=60)  # the queued one stayed queued
    await ask(telegram, OWNER, "after the stop", "echo: after the stop")
    assert not any("THE-END" in m.text for m in telegram.bot_messages(OWNER) if m.text)  # its end never arrived
    assert not [m for m in telegram.bot_messages(OWNER) if is_progress(m)]
    assert telegram.errors() == []


async def test_a_stop_for_another_chat_or_draft_stops_nothing(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    telegram.private_topics = True
    await bot.start()
    await ask(telegram, STRANGER, "hello", "Sorry", user=STRANGER)  # a stranger's private chat exists
    telegram.user_message(OWNER, OWNER, f"#slow 6 {WORDS}")
    draft = await telegram.wait_for(lambda: next((d for d in telegram.drafts_in(OWNER) if "w0" in d.text), None), timeout=60)
    telegram.stop_draft(STRANGER, draft.draft_id)  # another chat
    telegram.stop_draft(OWNER, draft.draft_id + 1)  # a draft that is not streaming
    telegram.stop_draft(OWNER, draft.draft_id, thread_id=7)  # another thread of the chat
    answer = await wait_answer(telegram, OWNER, "THE-END", timeout=60)
    assert "⏹ Stopped." not in answer.text
    assert len(telegram.drafts_in(OWNER)) > [*telegram.drafts_in(OWNER)].index(draft) + 1  # it streamed on
    assert telegram.errors() == []


async def test_a_refused_draft_falls_back_to_the_progress_message_and_the_answer_is_whole(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    telegram.refuse_drafts()
    await bot.start()
    telegram.user_message(OWNER, OWNER, f"#slow 3 {WORDS}")
    progress = await progress_message(telegram, OWNER)
    await telegram.wait_for(lambda: not is_progress(progress), timeout=60)
    assert progress.text == f"echo: #slow 3 {WORDS}"
    assert len(telegram.errors("sendMessageDraft")) == 1  # refused once; the rest of the turn is the progress message's
    assert telegram.drafts == []


async def test_a_long_turn_in_a_group_ends_with_a_new_message(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    progress = await slow_group_turn(bot, telegram, 31)
    answer = await wait_answer(telegram, GROUP, "THE-END", timeout=90)
    assert answer.message_id != progress.message_id and answer.edits == 0  # a new message: the phone notifies
    await telegram.wait_for(lambda: progress.deleted, timeout=15)  # the progress message is gone
    assert telegram.errors() == []
