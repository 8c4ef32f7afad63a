"""The core bot under pressure: flood waits, the global limit, busy chats, bad files, a second process."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest

from tests.e2e.chat import ask, wait_answer
from tests.e2e.harness import OWNER, ROOT, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e


async def test_429s_lose_nothing(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.fail_next("sendMessage", count=2, error_code=429, retry_after=1)
    telegram.fail_next("editMessageText", count=1, error_code=429, retry_after=1)
    await ask(telegram, OWNER, "flooded plum", "echo: flooded plum")
    telegram.fail_next(None, count=1, error_code=429, retry_after=2)
    await ask(telegram, OWNER, "#long 6000", "END-OF-REPLY")
    assert any(c.error_code == 429 for c in telegram.calls)
    assert telegram.flood_violations() == []  # the bot waited out every retry_after
    assert "line 00001" in "".join(m.text for m in telegram.bot_messages(OWNER))


async def test_three_chats_run_in_parallel_under_the_global_limit(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    bot.extra_env["MAX_CONCURRENT_QUERIES"] = "2"
    await bot.start()
    chats = [OWNER, -100501, -100502]
    # Warm up each chat so the timed turns do not include the CLI's first start.
    for chat in chats:
        await ask(telegram, chat, f"hello {chat}", "echo:", chat_type="private" if chat > 0 else "group", chat_title=f"c{chat}")
    started = time.monotonic()
    for chat in chats:
        telegram.user_message(chat, OWNER, f"#slow 3 busy {chat}", chat_type="private" if chat > 0 else "group", chat_title=f"c{chat}")
    # The turn that waits says so in its progress message (later edited into its answer), or its
    # draft in the private chat.
    def shown() -> list[str]:
        return [*(m.text for c in chats for m in telegram.bot_messages(c)), *(d.text for d in telegram.drafts)]

    waiting = await telegram.wait_for(lambda: next((t for t in shown() if "Waiting for a free slot" in t), None), timeout=30)
    for chat in chats:
        # The final reply, not the progress view (which shows the whole streamed text just before the end).
        final = f"echo: #slow 3 busy {chat}"
        await telegram.wait_for(lambda final=final, chat=chat: any(m.text == final for m in telegram.bot_messages(chat)), timeout=60)
    elapsed = time.monotonic() - started
    slow = [r for r in claude_api.main_requests() if "busy" in r.last_user_text]
    # A request is over for the CLI at its last event; the stand-in's done_at comes after it closes the
    # stream, which a loaded machine can delay past the next turn's start: overlaps under a second are that.
    settled = 1.0
    overlapping = max(sum(1 for other in slow if other.at < r.done_at - settled and r.at < other.done_at - settled) for r in slow)
    assert overlapping == 2  # two ran at once, never three
    assert elapsed < 3 * 3  # parallel, not one after another
    assert "2 chats are using Claude right now (limit 2)." in waiting


async def test_second_message_in_a_busy_chat_is_queued_and_answered_after(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_message(OWNER, OWNER, "#slow 3 first fig")
    await claude_api.wait_for(lambda: any("first fig" in r.last_user_text for r in claude_api.main_requests()))
    telegram.user_message(OWNER, OWNER, "second date")
    notice = await wait_answer(telegram, OWNER, "Queued (position 1)")
    assert notice.reply_markup is not None
    first = await wait_answer(telegram, OWNER, "echo: #slow 3 first fig", timeout=60)
    second = await wait_answer(telegram, OWNER, "echo: second date", timeout=60)
    assert first.message_id < second.message_id
    requests = [r for r in claude_api.main_requests() if "fig" in r.last_user_text or "date" in r.last_user_text]
    assert [("fig" in r.last_user_text) for r in requests] == [True, False]
    assert requests[0].done_at <= requests[1].at
    # The queued notice went away once its turn started.
    assert notice.deleted


async def test_corrupt_session_file_does_not_stop_the_bot(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    bot.session_dir.mkdir(parents=True, mode=0o700)
    (bot.session_dir / f"{OWNER}.json").write_text('{"version": 1, "name": "1001", "session_id": ')
    (bot.session_dir / "-100600.json").write_bytes(b"\x00\xff garbage")
    await bot.start()
    await ask(telegram, OWNER, "fresh start quince", "echo: fresh start quince")
    await ask(telegram, -100601, "other chat fine", "echo: other chat fine", chat_type="group", chat_title="G")
    aside = sorted(p.name for p in bot.session_dir.iterdir() if p.name.endswith(".corrupt"))
    assert len(aside) == 2
    assert "corrupt" in bot.log_path.read_text() or "invalid" in bot.log_path.read_text()


async def test_second_process_on_the_same_session_dir_refuses(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    second = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=bot.tmp, env={**bot.env(), "PYTHONPATH": str(ROOT)},  # this tree's bot
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(second.communicate(), timeout=60)
    assert second.returncode == 1
    assert "already using" in err.decode() and "Traceback" not in err.decode()
    await ask(telegram, OWNER, "still serving", "echo: still serving")


async def test_commands_menu_status_sessions_and_cleanup(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    bot.session_dir.mkdir(parents=True, mode=0o700)
    # A group session the owner has written in: /sessions in the owner's private chat lists it.
    old = {"version": 1, "name": "-100700", "chat_id": -100700, "working_dir": str(bot.work_dir), "last_activity": time.time() - 90_000, "users": [OWNER]}
    (bot.session_dir / "-100700.json").write_text(json.dumps(old))
    await bot.start()
    assert {c["command"] for c in telegram.commands()} >= {"start", "help", "new", "status", "cd", "resume", "stop", "sessions"}
    await ask(telegram, OWNER, "count me", "echo: count me")
    status = await ask(telegram, OWNER, "/status", "Status")
    for part in [f"Chat: {OWNER}", "State: idle", str(bot.work_dir), "Totals: 1 turn ·", "Last turn: context", "/sessions",
                 "Claude Code processes: 1 running, at most", "GB available"]:
        assert part in status, status
    group = await ask(telegram, -100701, "/help@claude_test_bot", "/cd", chat_type="group", chat_title="G")
    for usage in ["/cd <path>", "/file <path>", "/link [CODE]", "/mode [mode]", str(bot.work_dir)]:
        assert usage in group, group
    start = await ask(telegram, -100701, "/start", "Claude Code in this chat", chat_type="group", chat_title="G")
    assert "Directory" in start and "/help" in start and "/cd <path>" not in start
    listing = await ask(telegram, OWNER, "/sessions", "sessions")
    assert "-100700" in listing and str(OWNER) in listing
    [shown] = [m for m in telegram.bot_messages(OWNER) if m.text == listing]
    [button] = shown.buttons()  # something to clean: the clean-up button
    before = {m.message_id for m in telegram.bot_messages(OWNER, include_deleted=True)}
    query = telegram.press_button(OWNER, OWNER, shown.message_id, button["callback_data"])
    cleaned = await wait_answer(telegram, OWNER, "removed")
    assert "1 idle session was removed" in cleaned.text
    await telegram.wait_for(lambda: query in telegram.callback_answers(), timeout=10)
    assert not telegram.callback_answers()[query].get("text")  # one answer: the message, not also a toast
    assert [m.text for m in telegram.bot_messages(OWNER) if m.message_id not in before] == [cleaned.text]
    await telegram.wait_for(lambda: not (bot.session_dir / "-100700.json").exists(), timeout=5)
    assert (bot.session_dir / f"{OWNER}.json").exists()
    # This chat only: the group's session is not one the owner wrote to (only commands), so a private chat does not list it.
    listing = await ask(telegram, OWNER, "/sessions", "1 session")
    assert [m for m in telegram.bot_messages(OWNER) if m.text == listing][-1].buttons() == []  # nothing left to clean
    assert "0 idle sessions were removed" in await ask(telegram, OWNER, "/sessions cleanup", "removed")
