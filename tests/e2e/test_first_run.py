"""From nothing to the first answer (issue 20): `init` in a real terminal, then the bot on the file it wrote."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.chat import ask, wait_answer
from tests.e2e.test_durability import slow_until_restarted
from tests.e2e.harness import FRIEND, OWNER, ROOT, BotProcess
from tests.e2e.terminal import Tmux
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

# What `init` writes, so the bot must find it in the file, not in the environment.
WRITTEN = {"TELEGRAM_BOT_TOKEN", "ALLOWED_USERS", "CLAUDE_WORKING_DIR", "ALLOWED_PATHS", "SESSION_DIR", "ANTHROPIC_API_KEY"}


@pytest.fixture()
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    terminal = Tmux(tmp_path)
    yield terminal
    terminal.close()


def terminal_env(bot: BotProcess) -> dict[str, str]:
    """A person's shell: the stand-ins' URLs and an Anthropic key exported, nothing of the bot's set."""
    env = {k: v for k, v in bot.env().items() if k not in WRITTEN | {"TG_CLAUDE_CODE_CONFIG", "CLAUDE_PERMISSION_MODE"}}
    env["ANTHROPIC_API_KEY"] = "sk-ant-from-the-shell"
    env["PYTHONPATH"] = str(ROOT)
    return env


async def test_init_in_a_terminal_writes_the_file_the_bot_then_serves_that_user_from(
    bot: BotProcess, telegram: TelegramStandin, tmux: Tmux
) -> None:
    # A message someone sent before the set-up: init must neither take it for the operator's nor consume it.
    telegram.user_message(FRIEND, FRIEND, "an earlier message")
    tmux.start(f"{sys.executable} -m bot init", terminal_env(bot), cwd=ROOT)
    at = await tmux.wait("Bot token from @BotFather")
    tmux.send("123456:WRONG-never-accepted")
    at = await tmux.wait("Telegram refuses the token", after=at)
    at = await tmux.wait("Bot token from @BotFather", after=at)
    tmux.send(telegram.token)
    at = await tmux.wait("the bot is Claude Test Bot (@claude_test_bot)", after=at)
    at = await tmux.wait("Now send any message to @claude_test_bot", after=at)
    telegram.user_message(OWNER, OWNER, "hello from my phone")
    at = await tmux.wait(f"user id {OWNER}", after=at)
    at = await tmux.wait("use the bot? (Y/n)", after=at)
    tmux.send("")
    at = await tmux.wait("Directory Claude Code works in", after=at)
    tmux.send(str(bot.work_dir))
    at = await tmux.wait("ANTHROPIC_API_KEY is set in this shell only", after=at)
    tmux.send("y")
    at = await tmux.wait("Start the bot with:  make run", after=at)
    assert tmux.exit_status() == 0 or await tmux.wait("[terminal: exit 0]", after=at)
    assert "WRONG-never-accepted" not in tmux.screen() and telegram.token not in tmux.screen()

    assert bot.config_file.is_file() and stat.S_IMODE(bot.config_file.stat().st_mode) == 0o600
    written = bot.config_file.read_text()
    assert f"TELEGRAM_BOT_TOKEN={telegram.token}\n" in written and f"ALLOWED_USERS={OWNER}\n" in written
    assert bot.work_dir.is_dir() and f"CLAUDE_WORKING_DIR={bot.work_dir}\n" in written
    # Only the pending look: init never confirmed an update, so the bot still gets both messages.
    offsets = [call.params.get("offset") for call in telegram.calls_to("getUpdates")]
    assert offsets and all(offset is None for offset in offsets), offsets

    bot.drop_env |= WRITTEN | {"TG_CLAUDE_CODE_CONFIG"}  # the bot reads the file init wrote, in its default place
    await bot.start()
    await wait_answer(telegram, OWNER, "echo: hello from my phone", timeout=60)  # the operator's first message
    await ask(telegram, OWNER, "and now?", "echo: and now?")
    assert not any("echo" in m.visible_text for m in telegram.bot_messages(FRIEND)), "FRIEND was never allowed"
    assert {request.headers.get("x-api-key") for request in bot.claude.main_requests()} == {"sk-ant-from-the-shell"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def progress_texts(telegram: TelegramStandin, chat_id: int) -> list[str]:
    """Every text the bot sent or edited into `chat_id`, in order (the progress message's states included)."""
    methods = {"sendmessage", "editmessagetext"}
    return [str(c.params.get("text")) for c in telegram.calls if c.method.lower() in methods and c.params.get("chat_id") == chat_id]


async def test_an_unreachable_api_is_said_as_such_in_the_chat_within_a_minute(bot: BotProcess, telegram: TelegramStandin) -> None:
    # Nothing listens where Claude's API should be; Claude Code retries three times (~4 s) before it gives up.
    bot.extra_env.update(ANTHROPIC_BASE_URL=f"http://127.0.0.1:{free_port()}", CLAUDE_CODE_MAX_RETRIES="3")
    bot.extra_env["TELEGRAM_DRAFTS"] = "false"  # the progress message, as a group shows it (tests/e2e/test_drafts.py has drafts)
    await bot.start()
    telegram.user_message(OWNER, OWNER, "hello?")
    answer = await wait_answer(telegram, OWNER, "Claude's API could not be reached", timeout=60)
    assert "the connection was refused" in answer.visible_text and "ANTHROPIC_BASE_URL" in answer.visible_text
    shown = progress_texts(telegram, OWNER)
    assert any("Claude's API cannot be reached or dropped the connection; Claude Code retries" in text for text in shown), shown
    assert not any("server error" in text for text in shown), shown


async def test_a_second_poller_on_the_token_is_named_once_in_the_log_and_the_chat_is_still_answered(
    bot: BotProcess, telegram: TelegramStandin
) -> None:
    bot.extra_env["LOG_LEVEL"] = "INFO"
    await bot.start()
    conflicts = len(telegram.calls_to("getUpdates"))

    async def other_process() -> None:
        """Another bot on the same token: its getUpdates end the bot's polls in flight (409), and the bot's its."""
        async with aiohttp.ClientSession() as client:
            for _ in range(12):
                async with client.get(f"{telegram.base_url}/bot{telegram.token}/getUpdates", params={"timeout": "1"}) as response:
                    await response.read()

    await other_process()
    assert sum(1 for c in telegram.calls_to("getUpdates")[conflicts:] if c.error_code == 409) >= 2
    await ask(telegram, OWNER, "still there?", "echo: still there?")
    output = bot.start_output()
    assert output.count("another process is polling Telegram with this bot's token") == 1, output
    assert "TelegramConflictError" not in output and "Sleep for" not in output, output
    assert "is handled" not in output, output  # aiogram's per-update lines are DEBUG
    assert re.search(rf"turn in chat {OWNER}: answered after \d+(\.\d)? s, \$\d+\.\d{{4}}", output), output


async def test_ctrl_c_says_what_it_waits_for_a_second_one_stops_at_once_and_the_turn_goes_on_after_the_start(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    bot.extra_env.update(SHUTDOWN_GRACE_SECONDS="120", LOG_LEVEL="INFO")
    claude_api.script = slow_until_restarted
    await bot.start()
    telegram.user_message(OWNER, OWNER, "#hang the long job")
    await claude_api.wait_for(lambda: any("the long job" in r.last_user_text for r in claude_api.main_requests()))
    assert bot.process is not None
    bot.process.send_signal(signal.SIGINT)
    await bot.wait_output("stopping: 1 turn is still running; waiting up to 120 s for it to finish (Ctrl-C again stops now")
    started = time.monotonic()
    bot.process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(bot.process.wait(), timeout=20) == 0
    assert time.monotonic() - started < 15, "the second Ctrl-C did not stop at once"
    assert "stopping now: the running turns are cut short" in bot.start_output()
    await bot.start()
    await wait_answer(telegram, OWNER, "resumed: the long job", timeout=60)


def readme_block(marker: str) -> str:
    """The fenced block between `<!-- marker -->` and `<!-- /marker -->` in README.md."""
    text = (ROOT / "README.md").read_text()
    block = text.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    return block.strip().removeprefix("```sh").removesuffix("```").strip()


async def test_doctor_passes_on_the_readmes_configuration_file(bot: BotProcess, telegram: TelegramStandin) -> None:
    example = readme_block("config-example")
    filled = (
        example.replace("123456789:AAE-the-token-from-BotFather", telegram.token)
        .replace("111222333", str(OWNER))
        .replace("/home/you/claude-work", str(bot.work_dir))
    )
    assert filled != example and "sk-ant-your-key" in filled
    bot.home.mkdir(parents=True, exist_ok=True)
    bot.work_dir.mkdir(parents=True, exist_ok=True)
    bot.config_file.parent.mkdir(parents=True, exist_ok=True)
    bot.config_file.write_text(filled + "\n")
    bot.drop_env |= WRITTEN
    status, output = await bot.run_command("doctor")
    assert status == 0, output
    assert f"configuration: {bot.config_file}" in output and "all 11 checks passed" in output
    assert "Claude credentials: from ANTHROPIC_API_KEY" in output


async def test_a_fresh_clone_following_the_readme_quick_start_word_for_word_gets_its_first_answer(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin, tmux: Tmux, tmp_path: Path
) -> None:
    lines = readme_block("quick-start").splitlines()
    assert len(lines) <= 10 and lines[0].startswith("git clone REPOSITORY_URL "), lines
    desk = tmp_path / "desk"
    desk.mkdir()
    env = terminal_env(bot)
    del env["PYTHONPATH"]  # a newcomer's shell: the clone's own code runs
    tmux.start("exec /bin/sh -i", env, cwd=desk)
    at = 0
    clone, enter = lines[0].replace("REPOSITORY_URL", str(ROOT)), lines[0].split("&& ", 1)[1]
    tmux.send(clone)
    checkout = desk / enter.removeprefix("cd ").strip()
    await telegram.wait_for(lambda: (checkout / "Makefile").is_file(), timeout=120)
    # Instead of a new `pip install` into the clone's .venv: this tree's (its marker newer than the clone's pyproject).
    (checkout / ".venv").symlink_to(ROOT / ".venv")
    (ROOT / ".venv" / ".installed-runtime").touch()
    for line in lines[1:]:
        tmux.send(line)
        if line.startswith("make init"):
            at = await tmux.wait("Bot token from @BotFather", after=at, timeout=60)
            tmux.send(telegram.token)
            at = await tmux.wait("Now send any message to @claude_test_bot", after=at)
            telegram.user_message(OWNER, OWNER, "hi bot")
            at = await tmux.wait("use the bot? (Y/n)", after=at)
            tmux.send("")
            at = await tmux.wait("Directory Claude Code works in (created if missing) [~/claude-work]", after=at)
            tmux.send("")  # the default
            at = await tmux.wait("ANTHROPIC_API_KEY is set in this shell only", after=at)
            tmux.send("")
            at = await tmux.wait("Start the bot with:  make run", after=at)
    await wait_answer(telegram, OWNER, "echo: hi bot", timeout=120)
    assert (bot.home / "claude-work").is_dir()
    tmux.interrupt()


async def test_a_key_in_the_configuration_file_reaches_claude_code_and_never_the_log(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    key = "sk-ant-api03-only-in-the-file-0123456789"
    bot.drop_env.add("ANTHROPIC_API_KEY")  # the environment has none: only the file does
    bot.config_file.parent.mkdir(parents=True, exist_ok=True)
    bot.config_file.write_text(f"ANTHROPIC_API_KEY={key}\n")
    await bot.start()
    await ask(telegram, OWNER, "who pays?", "echo: who pays?")
    assert {request.headers.get("x-api-key") for request in claude_api.main_requests()} == {key}
    status, output = await bot.run_command("doctor")
    assert "Claude credentials: from ANTHROPIC_API_KEY" in output, output
    await bot.stop()
    assert key not in bot.log_path.read_text() and key not in output


async def test_an_overloaded_api_shows_the_retries_in_the_progress_and_names_the_cause(bot: BotProcess, telegram: TelegramStandin) -> None:
    bot.extra_env["CLAUDE_CODE_MAX_RETRIES"] = "3"
    bot.extra_env["TELEGRAM_DRAFTS"] = "false"  # the progress message, as a group shows it
    await bot.start()
    telegram.user_message(OWNER, OWNER, "#error 529 busy?")
    answer = await wait_answer(telegram, OWNER, "overloaded", timeout=60)
    assert "Claude's API is overloaded" in answer.visible_text
    shown = progress_texts(telegram, OWNER)
    assert any("Claude's API is overloaded; Claude Code retries" in text and "of 3)" in text for text in shown), shown
