"""Driving Claude from the phone, end to end: approvals, questions and plans, modes and models,
stop and queue, a flooded burst, stale updates, files in and out. The real bot process and the
real Claude Code CLI run against the local stand-ins."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable

import pytest

from tests.e2e.chat import ask, is_progress, stop_turn, wait_answer
from tests.e2e.harness import OWNER, STRANGER, BotProcess
from tests.standins.messages_api import MessagesStandin, tool_result_text
from tests.standins.telegram_api import BotMessage, TelegramStandin

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def progress_messages(bot: BotProcess) -> None:
    """These tests follow the progress message and its Stop button in the owner's private chat: what a
    group shows, and a private chat with drafts off (tests/e2e/test_drafts.py has the drafts)."""
    bot.extra_env["TELEGRAM_DRAFTS"] = "false"

CHAT = OWNER
GROUP = -100300
# The smallest valid JPEG (1×1 px): what a phone camera sends, minus the megapixels.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////"
    "////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="
)


async def start_asking(bot: BotProcess, **env: str) -> None:
    """The bot with Claude Code in default mode, where tools need approval."""
    bot.extra_env.update(CLAUDE_PERMISSION_MODE="default", **env)
    await bot.start()


def button(message: BotMessage, label: str) -> str:
    for candidate in message.buttons():
        if label in candidate["text"]:
            return candidate["callback_data"]
    raise AssertionError(f"no button {label!r} on {message.visible_text!r}: {message.buttons()}")


async def wait_request(telegram: TelegramStandin, chat: int, contains: str) -> BotMessage:
    """The first bot message with buttons that contains `contains`; not the progress message, which
    names the running tool too but is no request."""

    def request(message: BotMessage) -> bool:
        return contains in message.visible_text and bool(message.buttons()) and not is_progress(message)

    return await telegram.wait_for(lambda: next((m for m in telegram.bot_messages(chat) if request(m)), None), timeout=30)


async def wait_progress(telegram: TelegramStandin, chat: int) -> BotMessage:
    """The running turn's progress message (with its Stop button)."""
    return await telegram.wait_for(
        lambda: next((m for m in telegram.bot_messages(chat) if is_progress(m) and m.buttons()), None), timeout=30
    )


async def press(telegram: TelegramStandin, chat: int, user: int, message: BotMessage, label: str, **kwargs) -> str:
    """Press a button and return the callback answer's text."""
    query = telegram.press_button(chat, user, message.message_id, button(message, label), **kwargs)
    answer = await telegram.wait_for(lambda: telegram.callback_answers().get(query), timeout=15)
    return str(answer.get("text", ""))


def denials(claude_api: MessagesStandin) -> list[str]:
    return [tool_result_text(b) for r in claude_api.main_requests() for b in r.tool_results if b.get("is_error")]


async def saved(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait for a condition on the session files (written within the store's 1 s debounce)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"session file condition not met within {timeout:g}s")
        await asyncio.sleep(0.05)


def record(bot: BotProcess, name: str = str(CHAT)) -> dict:
    """The chat's JSON as saved so far ({} before the first, debounced, write)."""
    path = bot.session_dir / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


# -- approvals ------------------------------------------------------------------------


async def test_a_tool_waits_for_allow_then_the_real_cli_runs_it(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await start_asking(bot)
    telegram.user_message(CHAT, OWNER, '#tool Bash {"command": "touch made.txt"}')
    request = await wait_request(telegram, CHAT, "touch made.txt")
    assert [b["text"] for b in request.buttons()] == ["✅ Allow once", "✅ Always allow in this chat", "❌ Deny"]
    assert not (bot.work_dir / "made.txt").exists()  # waiting for the button
    allow = button(request, "Allow once")
    assert await press(telegram, CHAT, OWNER, request, "Allow once") == "Done."
    await wait_answer(telegram, CHAT, "tool result: (Bash completed with no output)", timeout=60)
    assert (bot.work_dir / "made.txt").exists()
    await telegram.wait_for(lambda: "Allowed once" in request.text and not request.buttons(), timeout=30)
    # The same button again (a stale copy of the message) changes nothing.
    again = telegram.press_button(CHAT, OWNER, request.message_id, allow, force=True)
    answer = await telegram.wait_for(lambda: telegram.callback_answers().get(again), timeout=30)
    assert answer["text"] == "This request was already answered or has expired."
    status = await ask(telegram, CHAT, "/status", "Status")
    assert "Last turn: context" in status and "$" in status


async def test_deny_by_button_and_by_reply_gives_claude_the_reason(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await start_asking(bot)
    telegram.user_message(CHAT, OWNER, '#tool Bash {"command": "touch denied.txt"}')
    request = await wait_request(telegram, CHAT, "touch denied.txt")
    await press(telegram, CHAT, OWNER, request, "Deny")
    await wait_answer(telegram, CHAT, "tool denied: The user denied this.")
    telegram.user_message(CHAT, OWNER, '#tool Bash {"command": "touch replied.txt"}')
    request = await wait_request(telegram, CHAT, "touch replied.txt")
    telegram.user_message(CHAT, OWNER, "not on a Friday", reply_to_message_id=request.message_id)
    await wait_answer(telegram, CHAT, "tool denied: The user denied this: not on a Friday")
    assert any("not on a Friday" in text for text in denials(claude_api))
    assert "Denied: not on a Friday" in request.text and not request.buttons()
    assert not (bot.work_dir / "denied.txt").exists() and not (bot.work_dir / "replied.txt").exists()
    assert all("not on a Friday" not in r.last_user_text for r in claude_api.main_requests())  # a reply, not a prompt


async def test_always_allow_is_remembered_across_a_restart(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await start_asking(bot)
    command = '#tool Bash {"command": "touch always.txt"}'
    telegram.user_message(CHAT, OWNER, command)
    request = await wait_request(telegram, CHAT, "touch always.txt")
    await press(telegram, CHAT, OWNER, request, "Always allow")
    await wait_answer(telegram, CHAT, "tool result:")
    assert "Bash(touch always.txt)" in request.text
    await saved(lambda: record(bot).get("always_allow"))
    (bot.work_dir / "always.txt").unlink()
    await bot.restart()
    answered = len([m for m in telegram.bot_messages(CHAT) if "tool result:" in m.text])
    telegram.user_message(CHAT, OWNER, command)
    await telegram.wait_for(lambda: len([m for m in telegram.bot_messages(CHAT) if "tool result:" in m.text]) > answered, timeout=30)
    assert (bot.work_dir / "always.txt").exists()
    assert len([m for m in telegram.bot_messages(CHAT) if m.history[0].startswith("🔐")]) == 1  # no second request
    assert not (bot.work_dir / ".claude").exists()  # the rule lives in the chat's JSON, not the project's settings


async def test_an_unanswered_request_is_denied_after_the_timeout(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await start_asking(bot, APPROVAL_TIMEOUT_SECONDS="6")
    telegram.user_message(CHAT, OWNER, '#tool Bash {"command": "touch late.txt"}')
    request = await wait_request(telegram, CHAT, "touch late.txt")
    assert "denied in 6 s" in request.text
    await wait_answer(telegram, CHAT, "tool denied: The user did not answer", timeout=20)
    assert "Denied: nobody answered within 6 s" in request.text and not request.buttons()
    assert not (bot.work_dir / "late.txt").exists()
    # While it waited, the progress message kept counting although Claude said nothing new.
    progress = next(m for m in telegram.bot_messages(CHAT, include_deleted=True) if m.history and m.history[0].startswith("⏳ Working"))
    assert any(line.startswith("⏳ Working… ") and int(line.split()[2].split("s")[0]) >= 5 for line in progress.history)


async def test_a_strangers_press_does_nothing(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await start_asking(bot)
    telegram.user_message(GROUP, OWNER, '#tool Bash {"command": "touch guarded.txt"}', chat_type="group", chat_title="Team")
    request = await wait_request(telegram, GROUP, "touch guarded.txt")
    assert await press(telegram, GROUP, STRANGER, request, "Allow once") == "Sorry, this is a private bot."
    assert request.buttons() and not (bot.work_dir / "guarded.txt").exists()
    assert len(claude_api.main_requests()) == 1  # nothing went back to Claude
    status = await ask(telegram, GROUP, "/status", "Status", chat_type="group", chat_title="Team")
    assert "Waiting for your answer: Bash: touch guarded.txt" in status and "Mode: default" in status
    await press(telegram, GROUP, OWNER, request, "Allow once")
    await wait_answer(telegram, GROUP, "tool result:")
    assert (bot.work_dir / "guarded.txt").exists()


async def test_questions_and_plans_are_answered_with_buttons(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()  # bypassPermissions: Claude's questions still reach the chat
    question = {"question": "Which database?", "header": "DB", "multiSelect": False, "options": [
        {"label": "Postgres", "description": "a server"}, {"label": "SQLite", "description": "a file"}]}
    telegram.user_message(CHAT, OWNER, "#tool AskUserQuestion " + json.dumps({"questions": [question]}))
    request = await wait_request(telegram, CHAT, "Which database?")
    await press(telegram, CHAT, OWNER, request, "SQLite")
    await wait_answer(telegram, CHAT, '"Which database?"="SQLite"')
    await ask(telegram, CHAT, "/mode plan", "Permission mode is now plan")
    telegram.user_message(CHAT, OWNER, '#tool ExitPlanMode {"plan": "1. build"}')
    plan = await wait_request(telegram, CHAT, "Claude's plan")
    await press(telegram, CHAT, OWNER, plan, "Approve")
    await wait_answer(telegram, CHAT, "User has approved")
    await saved(lambda: record(bot).get("permission_mode") == "default")  # Claude Code left plan mode; so does the chat


# -- modes and models -----------------------------------------------------------------


async def test_mode_and_model_are_set_with_buttons_and_survive_a_restart(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_message(CHAT, OWNER, "/mode")
    menu = await wait_request(telegram, CHAT, "Permission mode: bypassPermissions")
    await press(telegram, CHAT, OWNER, menu, "acceptEdits")
    await telegram.wait_for(lambda: "Permission mode is now acceptEdits" in menu.text, timeout=10)
    telegram.user_message(CHAT, OWNER, "/model")
    models = await wait_request(telegram, CHAT, "Model:")
    await press(telegram, CHAT, OWNER, models, "haiku")
    await telegram.wait_for(lambda: "Model is now haiku" in models.text, timeout=10)
    await bot.restart()
    shown = await ask(telegram, CHAT, "/mode", "Permission mode:")
    assert "Permission mode: acceptEdits" in shown
    await ask(telegram, CHAT, "which model", "echo: which model")
    assert "haiku" in claude_api.main_requests()[-1].body["model"]
    refused = await ask(telegram, CHAT, "/mode yolo", "no permission mode")
    assert "choose one of default, acceptEdits, plan, bypassPermissions" in refused
    await ask(telegram, CHAT, "/model default", "Model is now Claude Code's default")
    await saved(lambda: record(bot).get("model", "?") is None and record(bot).get("permission_mode") == "acceptEdits")


# -- stop, queue, burst ---------------------------------------------------------------


async def test_stop_interrupts_a_running_turn(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_message(CHAT, OWNER, "#slow 20 a very long story")
    progress = await wait_progress(telegram, CHAT)
    await claude_api.wait_for(lambda: any("long story" in r.last_user_text for r in claude_api.main_requests()))
    started = time.monotonic()
    await press(telegram, CHAT, OWNER, progress, "Stop")
    await telegram.wait_for(lambda: "⏹ Stopped." in progress.text and not progress.buttons(), timeout=15)
    assert time.monotonic() - started < 10


async def test_stop_leaves_one_message_the_stopped_turns_own(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_message(CHAT, OWNER, "#slow 20 a story to cut short")
    progress = await wait_progress(telegram, CHAT)
    await claude_api.wait_for(lambda: any("cut short" in r.last_user_text for r in claude_api.main_requests()))
    before = {m.message_id for m in telegram.bot_messages(CHAT, include_deleted=True)}
    command = await stop_turn(telegram, CHAT)
    await telegram.wait_for(lambda: progress.text.endswith("⏹ Stopped.") and not progress.buttons(), timeout=15)
    await ask(telegram, CHAT, "and now?", "echo: and now?")  # what came after the stop is all there
    new = [m for m in telegram.bot_messages(CHAT, include_deleted=True) if m.message_id not in before]
    assert [m.text for m in new] == ["echo: and now?"], [m.text for m in new]
    assert not [m for m in new if m.reply_to_message_id == command]
    assert await ask(telegram, CHAT, "/stop", "Nothing is running") == "Nothing is running in this chat."


async def test_stop_where_reactions_are_off_answers_in_one_line(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.add_chat(GROUP, chat_type="group", title="Team")
    telegram.disallow_reactions(GROUP)
    telegram.user_message(GROUP, OWNER, "#slow 20 a long group story", chat_type="group", chat_title="Team")
    await claude_api.wait_for(lambda: any("group story" in r.last_user_text for r in claude_api.main_requests()))
    await ask(telegram, GROUP, "/stop", "Stopping the running turn", chat_type="group", chat_title="Team")
    await telegram.wait_for(lambda: any(m.text.endswith("⏹ Stopped.") for m in telegram.bot_messages(GROUP)), timeout=15)


async def test_queued_messages_can_be_cancelled_or_run_now(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_message(CHAT, OWNER, "#slow 20 first in line")
    await claude_api.wait_for(lambda: any("first in line" in r.last_user_text for r in claude_api.main_requests()))
    progress = await wait_progress(telegram, CHAT)
    telegram.user_message(CHAT, OWNER, "cancel me please")
    cancel = await wait_request(telegram, CHAT, "Queued (position 1)")
    telegram.user_message(CHAT, OWNER, "run me now")
    hurry = await wait_request(telegram, CHAT, "Queued (position 2)")
    assert await press(telegram, CHAT, OWNER, cancel, "Cancel") == "Cancelled."
    await telegram.wait_for(lambda: "Cancelled: this message will not be sent to Claude" in cancel.text, timeout=10)
    assert await press(telegram, CHAT, OWNER, hurry, "Run now") == "Running it next."
    await telegram.wait_for(lambda: "⏹ Stopped." in progress.text, timeout=15)  # the running turn gave way
    await wait_answer(telegram, CHAT, "echo: run me now", timeout=30)
    await ask(telegram, CHAT, "after the cancel", "echo: after the cancel")
    assert all("cancel me" not in text for r in claude_api.requests for text in r.user_texts)


async def test_a_message_sent_while_an_answer_is_shown_is_answered_when_new_cancels_it(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    telegram.fail_next("sendDocument", retry_after=6)  # the answer's last part (the whole text as a file) waits 6 s
    telegram.user_message(CHAT, OWNER, "#long 40000")
    await telegram.wait_for(lambda: any("line 00001" in m.text and not is_progress(m) for m in telegram.bot_messages(CHAT)), timeout=60)
    update = telegram.user_message(CHAT, OWNER, "one more thing")  # it starts next: no queue notice
    late = update["message"]["message_id"]
    await bot.wait_output(f"Update id={update['update_id']} is handled", timeout=10)  # queued before /new comes
    telegram.user_message(CHAT, OWNER, "/new")
    cancelled = await telegram.wait_for(
        lambda: next((m for m in telegram.bot_messages(CHAT) if m.reply_to_message_id == late), None), timeout=60
    )
    assert cancelled.text == "✖️ Cancelled: this message will not be sent to Claude."
    await telegram.wait_for(lambda: any(m.document for m in telegram.bot_messages(CHAT)), timeout=60)  # the answer is whole
    assert [m for m in telegram.bot_messages(CHAT, include_deleted=True) if m.reply_to_message_id == late] == [cancelled]
    assert all("one more thing" not in text for r in claude_api.requests for text in r.user_texts)


async def test_stopping_a_turn_withdraws_its_pending_request(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await start_asking(bot)
    telegram.user_message(CHAT, OWNER, '#tool Bash {"command": "touch stopped.txt"}')
    request = await wait_request(telegram, CHAT, "touch stopped.txt")
    await stop_turn(telegram, CHAT)
    await telegram.wait_for(lambda: "Cancelled: the turn was stopped" in request.text and not request.buttons(), timeout=15)
    await telegram.wait_for(lambda: any("⏹ Stopped." in m.text for m in telegram.bot_messages(CHAT)), timeout=15)
    assert not (bot.work_dir / "stopped.txt").exists()


async def test_a_flooded_burst_of_thirty_replies_arrives_whole_and_in_order(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    chats = [CHAT, 1002, 1003]  # three private chats, so the burst is not one chat's pacing alone
    await bot.start()
    telegram.flood(every=7, retry_after=1)
    for n in range(10):
        for chat in chats:
            telegram.user_message(chat, OWNER, f"burst {chat} {n:02d}")
    def asked(chat: int) -> list[str]:
        """What the echoes hold, line by line: messages that waited together share one turn (issue 10)."""
        answers = [m.text for m in telegram.bot_messages(chat) if m.text.startswith("echo:")]
        return [line for text in answers for line in text.removeprefix("echo: ").split("\n") if line]

    for chat in chats:
        await telegram.wait_for(lambda: f"burst {chat} 09" in asked(chat), timeout=150)
    assert any(c.error_code == 429 for c in telegram.calls)
    assert telegram.flood_violations() == []
    for chat in chats:
        assert asked(chat) == [f"burst {chat} {n:02d}" for n in range(10)]


# -- updates that waited --------------------------------------------------------------


async def test_messages_that_waited_too_long_are_not_sent_to_claude(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    bot.extra_env["MAX_UPDATE_AGE_SECONDS"] = "600"
    old = telegram.user_message(CHAT, OWNER, "stale plan from yesterday")
    old["message"]["date"] = int(time.time()) - 7200
    telegram.user_message(CHAT, OWNER, "fresh while down")
    await bot.start()
    await wait_answer(telegram, CHAT, "echo: fresh while down", timeout=30)
    notice = await wait_answer(telegram, CHAT, "while the bot was offline")
    assert "2 h ago" in notice.text and notice.reply_to_message_id == old["message"]["message_id"]
    assert all("stale plan" not in text for r in claude_api.requests for text in r.user_texts)


# -- files ----------------------------------------------------------------------------


async def test_a_document_lands_in_the_directory_and_file_sends_it_back(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    data = bytes(range(256)) * 40
    telegram.user_document(CHAT, OWNER, "../../.notes v1.bin", data, caption="keep this")
    await wait_answer(telegram, CHAT, "echo: keep this")
    assert any('<uploaded_file path="./notes v1.bin" bytes="10240"' in t for r in claude_api.main_requests() for t in r.user_texts)
    assert (bot.work_dir / "notes v1.bin").read_bytes() == data
    assert sorted(p.name for p in bot.tmp.iterdir()) == sorted(["bot.log", "claude-home", "home", "sessions", "work"])  # nothing outside
    telegram.user_document(CHAT, OWNER, "notes v1.bin", b"second")
    await claude_api.wait_for(
        lambda: any('<uploaded_file path="./notes v1-2.bin" bytes="6"' in t for r in claude_api.main_requests() for t in r.user_texts)
    )
    telegram.user_message(CHAT, OWNER, "/file notes v1.bin")
    sent = await telegram.wait_for(lambda: next((m for m in telegram.bot_messages(CHAT) if m.document), None), timeout=15)
    assert sent.document == ("notes v1.bin", data)
    refused = await ask(telegram, CHAT, "/file /etc/passwd", "outside the allowed directories")
    assert "passwd" in refused and len([m for m in telegram.bot_messages(CHAT) if m.document]) == 1
    await ask(telegram, CHAT, "/file missing.txt", "does not exist")


async def test_a_photo_reaches_claude_as_an_image(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    telegram.user_photo(CHAT, OWNER, JPEG, caption="what is this")
    await wait_answer(telegram, CHAT, "echo: what is this")
    photos = list(bot.work_dir.glob("photo-*.jpg"))
    assert len(photos) == 1 and photos[0].read_bytes() == JPEG
    messages = claude_api.main_requests()[-1].body["messages"]
    user_blocks = [b for m in messages if m["role"] == "user" and isinstance(m["content"], list) for b in m["content"]]
    assert any(b.get("type") == "image" and b["source"]["data"] == base64.b64encode(JPEG).decode() for b in user_blocks)


async def test_claude_sends_files_from_its_directory_only(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    (bot.work_dir / "report.txt").parent.mkdir(parents=True, exist_ok=True)
    (bot.work_dir / "report.txt").write_bytes(b"all green\n")
    await bot.start()
    telegram.user_message(CHAT, OWNER, '#tool mcp__bot__send_file {"path": "/etc/passwd"}')
    await wait_answer(telegram, CHAT, "tool denied: Refused:")
    assert any("outside the allowed directories" in text for text in denials(claude_api))
    telegram.user_message(CHAT, OWNER, '#tool mcp__bot__send_file {"path": "report.txt", "caption": "the report"}')
    await wait_answer(telegram, CHAT, "tool result: Sent report.txt (10 bytes)")
    documents = [m for m in telegram.bot_messages(CHAT) if m.document]
    assert len(documents) == 1 and documents[0].document == ("report.txt", b"all green\n") and documents[0].caption == "the report"
