"""Accepted means answered: every message the bot took from Telegram is answered exactly once,
whatever happens to the process, and a conversation is only ever driven by one process."""

from __future__ import annotations

import asyncio
import os
import re
import signal

import pytest

from tests.e2e.chat import ask, stop_turn, wait_answer
from tests.e2e.harness import FRIEND, OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin, Reply
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def progress_messages(bot: BotProcess) -> None:
    """These tests follow the progress message across restarts in the owner's private chat: what a
    group shows, and a private chat with drafts off (tests/e2e/test_drafts.py has the drafts)."""
    bot.extra_env["TELEGRAM_DRAFTS"] = "false"

RESUMED = "interrupted because the bot restarted"
TEAM = -100300


def slow_until_restarted(body: dict, rec) -> Reply | None:  # type: ignore[no-untyped-def]
    """A `#hang` turn streams for a minute; once the bot says it was carried on after a restart, it answers."""
    text = rec.last_user_text
    if "#hang" in text and RESUMED in text:
        return Reply.text_reply("resumed: " + text.split("#hang", 1)[1].strip())
    if "#hang" in text:
        return Reply.text_reply("never finished", 60)
    return None


def held_until_restart_shown(telegram: TelegramStandin, chat_id: int):  # type: ignore[no-untyped-def]
    """slow_until_restarted, but the resumed turn answers only once its progress message says it was
    restarted: what the chat shows while a resumed turn runs (a quick answer would replace it unseen)."""

    def shown() -> bool:
        return any("Restarted, continuing" in text for m in telegram.bot_messages(chat_id) for text in m.history)

    async def script(body: dict, rec) -> Reply | None:  # type: ignore[no-untyped-def]
        if "#hang" in rec.last_user_text and RESUMED in rec.last_user_text:
            await telegram.wait_for(shown, timeout=30)
        return slow_until_restarted(body, rec)

    return script


def answers(telegram: TelegramStandin, chat_id: int, text: str) -> list[str]:
    return [m.text for m in telegram.bot_messages(chat_id) if m.text and text in m.text]


def asked(claude_api: MessagesStandin, text: str) -> int:
    """How many main requests carried `text` as the newest user text (retries of one turn count once)."""
    return len({r.last_user_text for r in claude_api.main_requests() if text in r.last_user_text and RESUMED not in r.last_user_text})


async def start_a_long_job(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    """The bot started (SIGTERM grace 1 s), and Claude at work on a turn that ends only once carried on after a restart."""
    bot.extra_env["SHUTDOWN_GRACE_SECONDS"] = "1"
    claude_api.script = slow_until_restarted
    await bot.start()
    telegram.user_message(OWNER, OWNER, "#hang the long job")
    await claude_api.wait_for(lambda: any("the long job" in r.last_user_text for r in claude_api.main_requests()))


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_queued_and_running_messages_are_answered_once_after_a_restart(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin, how: str
) -> None:
    await start_a_long_job(bot, telegram, claude_api)
    claude_api.script = held_until_restart_shown(telegram, OWNER)
    progress = await telegram.wait_for_text(OWNER, "Working", timeout=30)
    for n in range(3):
        telegram.user_message(OWNER, OWNER, f"queued {n}")
    await telegram.wait_for(lambda: len([m for m in telegram.bot_messages(OWNER) if "Queued" in m.text]) == 3, timeout=30)
    if how == "SIGTERM":
        assert await bot.stop() == 0
        assert "continues after it starts" in progress.text
        assert all("stays queued" in m.text for m in telegram.bot_messages(OWNER) if "queued" in m.history[0].lower())
    else:
        await bot.kill()
    await bot.start()
    await telegram.wait_for(lambda: answers(telegram, OWNER, "resumed: the long job"), timeout=60)
    assert any("Restarted, continuing" in text for text in progress.history), progress.history
    # The three waited together, so they reach Claude together (one turn, one answer, in order).
    def echoed(n: int) -> list[str]:
        return [t for t in answers(telegram, OWNER, f"queued {n}") if t.startswith("echo:")]

    await telegram.wait_for(lambda: all(echoed(n) for n in range(3)), timeout=60)
    texts = [m.text for m in telegram.bot_messages(OWNER)]
    assert not [t for t in texts if "send it again" in t or "send your message again" in t], texts
    assert len(answers(telegram, OWNER, "resumed: the long job")) == 1
    said = "\n".join(t for t in texts if t.startswith("echo:"))
    assert said.index("queued 0") < said.index("queued 1") < said.index("queued 2")  # in the order they were sent
    # After another restart nothing is answered twice.
    await bot.restart()
    await ask(telegram, OWNER, "after all that", "echo: after all that")
    for n in range(3):
        assert len(echoed(n)) == 1
        assert asked(claude_api, f"queued {n}") == 1


async def test_an_answer_computed_but_not_sent_arrives_once_without_asking_claude_again(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    await ask(telegram, OWNER, "warm up", "echo: warm up")
    telegram.user_message(OWNER, OWNER, "#slow 1 the precious answer")
    await claude_api.wait_for(lambda: any("precious answer" in r.last_user_text for r in claude_api.main_requests()))
    telegram.set_down(True)  # the answer cannot be sent
    inbox = bot.session_dir / "inbox.jsonl"
    recorded = '{"t":"answer","id":"1001:'  # this message's final text, on disk before it is sent

    def answer_recorded() -> bool:
        return any(line.startswith(recorded) and "precious answer" in line for line in inbox.read_text().splitlines())

    await telegram.wait_for(answer_recorded, timeout=30)
    await bot.kill()
    telegram.set_down(False)
    await bot.start()
    await telegram.wait_for(lambda: answers(telegram, OWNER, "echo: #slow 1 the precious answer"), timeout=30)
    await ask(telegram, OWNER, "and then", "echo: and then")
    assert len(answers(telegram, OWNER, "echo: #slow 1 the precious answer")) == 1
    assert asked(claude_api, "the precious answer") == 1


async def test_a_turn_that_keeps_dying_is_given_up_after_two_tries(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    claude_api.script = lambda body, rec: Reply.text_reply("never finished", 60) if "#doomed" in rec.last_user_text else None
    await bot.start()
    telegram.user_message(OWNER, OWNER, "#doomed crash loop")
    for tries in (1, 2):
        await claude_api.wait_for(lambda tries=tries: len([r for r in claude_api.main_requests() if "#doomed" in r.last_user_text]) >= tries, timeout=60)
        await bot.kill()
        await bot.start()
        if tries == 1:  # carried on: /status says so
            status = await ask(telegram, OWNER, "/status", "Status")
            assert "Carried on after a restart: 1" in status, status
    sentence = await wait_answer(telegram, OWNER, "not tried again", timeout=60)
    assert sentence.text.count(".") <= 1
    await ask(telegram, OWNER, "still alive", "echo: still alive")
    assert len({r.last_user_text for r in claude_api.main_requests() if "#doomed" in r.last_user_text}) == 2


async def test_stop_right_after_a_message_stops_it(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_message(OWNER, OWNER, "#slow 8 a job to stop")
    await asyncio.sleep(0.3)  # the scenario itself: /stop while the Claude Code process is still starting
    await stop_turn(telegram, OWNER)  # 👌: it had something to stop
    await telegram.wait_for(lambda: any(m.text.endswith("⏹ Stopped.") for m in telegram.bot_messages(OWNER)), timeout=30)
    # Claude Code may carry the stopped prompt into the next turn (its transcript keeps it); the stopped
    # turn itself never ran to its end.
    await ask(telegram, OWNER, "next one", "next one")
    assert not [m for m in telegram.bot_messages(OWNER) if m.text == "echo: #slow 8 a job to stop"]


@pytest.mark.parametrize("round_no", range(3))
async def test_a_burst_is_answered_in_the_order_it_was_sent(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin, round_no: int
) -> None:
    await bot.start()
    telegram.flood(every=4, retry_after=1)  # Telegram's flood control on the bot's sends
    for n in range(10):
        telegram.user_message(OWNER, OWNER, f"burst {n}")
    await telegram.wait_for(lambda: all(answers(telegram, OWNER, f"burst {n}") for n in range(10)), timeout=120)
    said = "\n".join(m.text for m in telegram.bot_messages(OWNER) if "echo:" in m.text)
    order = [int(n) for n in re.findall(r"burst (\d)", said)]
    assert order == sorted(order), said


async def test_linking_and_unlinking_never_forks_a_conversation(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    await ask(telegram, OWNER, "a1", "echo: a1")
    await ask(telegram, OWNER, "a2", "echo: a2")
    code_text = await ask(telegram, OWNER, "/link", "/link ")
    code = re.search(r"/link ([A-Za-z0-9]+)", code_text).group(1)  # type: ignore[union-attr]
    group = {"chat_type": "group", "chat_title": "Team"}  # chat B: the owner's code works only for the owner
    await ask(telegram, TEAM, f"/link {code}", "Linked", **group)
    await ask(telegram, TEAM, "b1", "b1", user=FRIEND, **group)
    await ask(telegram, TEAM, "/unlink", "Unlinked", **group)
    await ask(telegram, OWNER, "a3", "a3")

    def in_order(history: str) -> bool:
        found = [history.find(word) for word in ("a1", "a2", "b1", "a3")]
        return -1 not in found and found == sorted(found)

    assert in_order(await ask(telegram, OWNER, "#history", "history:"))
    await bot.restart()
    assert in_order(await ask(telegram, OWNER, "#history", "history:"))


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_an_edited_queued_message_survives_a_kill_and_is_answered_once_with_its_edit(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin, how: str
) -> None:
    await start_a_long_job(bot, telegram, claude_api)
    sent = telegram.user_message(OWNER, OWNER, "first draft")
    await telegram.wait_for(lambda: any("Queued" in m.text for m in telegram.bot_messages(OWNER)), timeout=30)
    telegram.user_edit(OWNER, sent["message"]["message_id"], "final wording")
    inbox = bot.session_dir / "inbox.jsonl"
    # The edit is on disk as the queued message's new prompt, and the edit's own entry is done with.
    await telegram.wait_for(lambda: '"v":"final wording"' in inbox.read_text() and inbox.read_text().count('"t":"done"') >= 1, timeout=30)
    if how == "SIGTERM":
        assert await bot.stop() == 0
    else:
        await bot.kill()
    await bot.start()
    await telegram.wait_for(lambda: answers(telegram, OWNER, "echo: final wording"), timeout=60)
    await ask(telegram, OWNER, "and then", "echo: and then")
    assert len(answers(telegram, OWNER, "echo: final wording")) == 1
    assert not answers(telegram, OWNER, "echo: first draft")
    assert asked(claude_api, "final wording") == 1 and asked(claude_api, "first draft") == 0


async def test_a_turn_claude_code_finished_as_the_bot_died_is_completed_from_its_transcript(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    await ask(telegram, OWNER, "warm up", "echo: warm up")
    record = bot.session_dir / f"{OWNER}.json"
    await telegram.wait_for(lambda: record.exists() and '"session_id":"' in record.read_text().replace(" ", ""), timeout=10)
    telegram.user_message(OWNER, OWNER, "#slow 2 the last words")
    await claude_api.wait_for(lambda: any("the last words" in r.last_user_text for r in claude_api.main_requests()))
    assert bot.process is not None
    os.kill(bot.process.pid, signal.SIGSTOP)  # frozen: Claude Code finishes the turn, the bot records nothing of it

    def finished_in_transcript() -> bool:
        return any(
            "echo: #slow 2 the last words" in line and '"end_turn"' in line
            for path in bot.tmp.rglob("*.jsonl") if "projects" in path.parts
            for line in path.read_text(errors="replace").splitlines()
        )

    try:
        deadline = asyncio.get_running_loop().time() + 60
        while not finished_in_transcript():  # a file written by the CLI alone: polled (neither stand-in sees it)
            assert asyncio.get_running_loop().time() < deadline, "Claude Code never finished the turn"
            await asyncio.sleep(0.1)
    finally:
        await bot.kill()
    await bot.start()
    await wait_answer(telegram, OWNER, "echo: #slow 2 the last words", timeout=60)
    await ask(telegram, OWNER, "and then", "echo: and then")
    assert len(answers(telegram, OWNER, "echo: #slow 2 the last words")) == 1
    # Claude was asked once: the turn was completed from the transcript, not run again.
    assert len([r for r in claude_api.main_requests() if "the last words" in r.last_user_text]) == 1
