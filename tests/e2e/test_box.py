"""Claude works in a box (issue 18), end to end: the real CLI in bypassPermissions runs each attack, and each test
proves the command ran. Every test runs twice: with the bot as root (the suite's own user: Claude Code runs as a
user of its own inside bubblewrap) and with the bot as an ordinary user (bubblewrap alone)."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.accounts import bot_as, give
from tests.e2e.chat import ask, wait_answer
from tests.e2e.git_repo import git, make_repo
from tests.e2e.harness import OWNER, BotProcess
from tests.e2e.procs import cli_processes
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="runs the bot as root and as a user it creates"),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (.ci/run installs it)"),
]

CHAT = OWNER
OTHER_CHAT = -100777
TRANSCRIBE_KEY = "sk-transcribe-secret-4242"


@pytest.fixture(params=["root", "user"])
async def boxed(request: pytest.FixtureRequest, telegram: TelegramStandin, claude_api: MessagesStandin, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """The bot, not started yet, as root or as an ordinary user."""
    async with bot_as(request.param, telegram, claude_api, tmp_path) as process:
        yield process
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print(f"\n----- bot log ({process.log_path}) -----\n{process.log_tail(200)}")


def _as_the_bots(path: Path, bot: BotProcess) -> Path:
    """What a test makes after the fixture belongs to whoever the bot runs as (root, or the ordinary user)."""
    owner = bot.tmp.stat()
    give(path, owner.st_uid, owner.st_gid)
    return path


def bash(command: str) -> str:
    return "#tool Bash " + json.dumps({"command": command})


def _secrets(telegram: TelegramStandin) -> list[str]:
    return [telegram.token, telegram.token.split(":")[1], TRANSCRIBE_KEY]


async def test_claude_reads_no_secret_and_writes_nothing_of_the_bots(boxed: BotProcess, telegram: TelegramStandin) -> None:
    bot = boxed
    bot.extra_env.update(TRANSCRIBE_BASE_URL="http://127.0.0.1:9", TRANSCRIBE_API_KEY=TRANSCRIBE_KEY)
    bot.config_file.write_text(f"TELEGRAM_BOT_TOKEN={telegram.token}\nTRANSCRIBE_API_KEY={TRANSCRIBE_KEY}\n")
    await bot.start()
    assert bot.process is not None
    pid, sessions = bot.process.pid, bot.session_dir
    await ask(telegram, CHAT, "hello", "echo: hello")  # the session file and the inbox exist
    launcher = (sessions / ".claude-launcher").read_text()
    read = (
        f"(cat /proc/*/environ; cat /proc/{pid}/environ; tr '\\0' '\\n' < /proc/1/environ; cat {bot.config_file}; "
        f"cat {sessions}/*; ls -la {bot.home} {sessions}) > seen.txt 2>&1; echo ran > ran.txt"
    )
    await ask(telegram, CHAT, bash(read), "tool result:")
    assert (bot.work_dir / "ran.txt").read_text() == "ran\n"
    seen = (bot.work_dir / "seen.txt").read_text(errors="replace")
    assert "ANTHROPIC_BASE_URL=" in seen  # it did read the environment of what it can see: its own processes
    for secret in _secrets(telegram):
        assert secret not in seen
    write = (
        f"echo forged$((40 + 2)) >> {sessions}/inbox.jsonl; echo inbox=$? > tried.txt; "  # forged42: not in the prompt
        f"echo 'exec sh' > {sessions}/.claude-launcher; echo launcher=$? >> tried.txt; "
        f"touch {sessions}/identity-map.json; echo links=$? >> tried.txt; "
        f"echo TELEGRAM_API_URL=http://evil$((40 + 2)) >> {bot.config_file}; echo config=$? >> tried.txt"
    )
    await ask(telegram, CHAT, bash(write), "tool result:")
    tried = dict(line.split("=") for line in (bot.work_dir / "tried.txt").read_text().split())
    assert set(tried) == {"inbox", "launcher", "links", "config"} and "0" not in tried.values(), tried
    assert "forged42" not in (sessions / "inbox.jsonl").read_text()
    assert (sessions / ".claude-launcher").read_text() == launcher
    assert not (sessions / "identity-map.json").exists() and "evil42" not in bot.config_file.read_text()
    shown = "\n".join(m.text for m in telegram.bot_messages(CHAT, include_deleted=True))
    assert not any(secret in shown for secret in _secrets(telegram))


async def test_claude_cannot_stop_or_freeze_the_bot_or_another_chats_claude(boxed: BotProcess, telegram: TelegramStandin) -> None:
    bot = boxed
    await bot.start()
    assert bot.process is not None
    await ask(telegram, OTHER_CHAT, "other chat", "echo: other chat", chat_type="group", chat_title="Team")
    [other_cli] = cli_processes(bot.process.pid)
    pid = bot.process.pid
    attack = (
        f"kill -STOP {pid}; echo stop=$? > signalled.txt; kill -KILL {pid}; echo kill=$? >> signalled.txt; "
        f"kill -STOP {other_cli}; echo other=$? >> signalled.txt"
    )
    await ask(telegram, CHAT, bash(attack), "tool result:")
    tried = dict(line.split("=") for line in (bot.work_dir / "signalled.txt").read_text().split())
    assert set(tried) == {"stop", "kill", "other"} and "0" not in tried.values(), tried
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    assert not bot.exited() and state != "T"
    await ask(telegram, CHAT, "still here?", "echo: still here?")
    await ask(telegram, OTHER_CHAT, "you too?", "echo: you too?", chat_type="group", chat_title="Team")
    os.kill(pid, signal.SIGCONT)  # belt and braces: never leave a frozen bot behind a failed assertion


async def test_a_planted_fsmonitor_never_sees_the_token(boxed: BotProcess, telegram: TelegramStandin) -> None:
    bot = boxed
    repo = _as_the_bots(make_repo(bot.work_dir / "repo"), bot)  # before the start: the bot hands it to Claude's user
    bot.extra_env.update(CLAUDE_WORKING_DIR=str(repo), TRANSCRIBE_BASE_URL="http://127.0.0.1:9", TRANSCRIBE_API_KEY=TRANSCRIBE_KEY)
    await bot.start()
    assert bot.process is not None
    monitor = (
        "#!/bin/sh\n"
        f"(env; cat /proc/*/environ; cat /proc/{bot.process.pid}/environ; cat {bot.config_file}) > {bot.work_dir}/leak.txt 2>&1\n"
        f"echo ran >> {bot.work_dir}/monitor-ran.txt\n"
    )
    await ask(telegram, CHAT, "#tool Write " + json.dumps({"file_path": f"{repo}/.git/monitor", "content": monitor}), "tool result:")
    plant = "chmod +x .git/monitor && git config core.fsmonitor \"$PWD/.git/monitor\" && echo planted > ../planted.txt"
    await ask(telegram, CHAT, bash(plant), "tool result:")  # the bot snapshots the tree with git after this turn
    await ask(telegram, CHAT, "#tool Write " + json.dumps({"file_path": f"{repo}/new.txt", "content": "x\n"}), "tool result:")
    assert (bot.work_dir / "planted.txt").read_text() == "planted\n"
    assert git(repo, "config", "--get", "core.fsmonitor").strip() == f"{repo}/.git/monitor"
    leak = bot.work_dir / "leak.txt"
    if leak.exists():  # the monitor ran (in the box, as the box user): it saw no secret
        seen = leak.read_text(errors="replace")
        assert not any(secret in seen for secret in _secrets(telegram)), seen[:2000]
    await wait_answer(telegram, CHAT, "📝")  # the snapshots still work: the turn's changed file is counted


async def test_claude_still_works_as_a_coding_agent_in_the_box(boxed: BotProcess, telegram: TelegramStandin) -> None:
    bot = boxed
    repo = _as_the_bots(make_repo(bot.work_dir / "app", {"main.py": "print('hi')\n"}), bot)
    bot.extra_env["CLAUDE_WORKING_DIR"] = str(repo)
    await bot.start()
    await ask(telegram, CHAT, "keep this word: quince", "echo: keep this word: quince")
    await ask(telegram, CHAT, "#tool Write " + json.dumps({"file_path": f"{repo}/notes.md", "content": "one\n"}), "tool result:")
    edit = {"file_path": f"{repo}/main.py", "old_string": "print('hi')", "new_string": "print('hello')"}
    await ask(telegram, CHAT, "#tool Edit " + json.dumps(edit), "tool result:")
    assert (repo / "notes.md").read_text() == "one\n" and (repo / "main.py").read_text() == "print('hello')\n"
    tools = (
        "git -c user.name=C -c user.email=c@x commit -qam edited && { git log --oneline | wc -l; "
        "grep -c PRETTY_NAME /etc/os-release; ls | sort | tr '\\n' ' '; echo; id -u; } > ../tools.txt"
    )
    await ask(telegram, CHAT, bash(tools), "tool result:")
    lines = (bot.work_dir / "tools.txt").read_text().splitlines()
    assert lines[:3] == ["2", "1", "main.py notes.md "]  # git, the system's files and the usual tools work
    if os.geteuid() == 0 and bot.python[0] != "setpriv":
        assert lines[3] != "0"  # the bot is root; Claude Code is not
    await wait_answer(telegram, CHAT, "📝")  # the diff line of the turns that changed files

    await bot.restart()
    resumed = await ask(telegram, CHAT, "#history", "history:")
    assert "quince" in resumed  # the conversation carries on after a restart, in the box

    telegram.user_message(CHAT, OWNER, "/export")
    exported = await telegram.wait_for(
        lambda: next((m for m in telegram.bot_messages(CHAT) if m.document and m.document[0].startswith("conversation-")), None)
    )
    assert "keep this word: quince" in exported.document[1].decode()
    await ask(telegram, CHAT, "/new", "fresh conversation")
    telegram.user_message(CHAT, OWNER, "/resume")
    picker = await telegram.wait_for(lambda: next((m for m in telegram.bot_messages(CHAT) if m.reply_markup and "Pick a conversation" in m.text), None))
    [[earlier]] = picker.reply_markup["inline_keyboard"]  # the one conversation before /new, read from the box's state
    telegram.press_button(CHAT, OWNER, picker.message_id, earlier["callback_data"])
    await wait_answer(telegram, CHAT, "Resumed")
    assert "quince" in await ask(telegram, CHAT, "#history again", "history:")


async def test_where_nothing_confines_bypass_is_refused_unless_the_operator_accepts_it(bot: BotProcess, telegram: TelegramStandin) -> None:
    bot.extra_env["CLAUDE_CONFINEMENT"] = "none"
    await bot.start(wait=False)
    assert bot.process is not None and await bot.process.wait() == 2  # the harness asks for bypassPermissions
    [line] = bot.start_output().strip().splitlines()
    assert "bypassPermissions cannot be used here: Claude Code runs unconfined here (CLAUDE_CONFINEMENT=none" in line
    assert "ALLOW_UNCONFINED_BYPASS=true" in line
    bot.extra_env["CLAUDE_PERMISSION_MODE"] = "default"
    await bot.start()
    assert "Claude Code runs unconfined: CLAUDE_CONFINEMENT=none" in bot.start_output()
    refused = await ask(telegram, CHAT, "/mode bypassPermissions", "runs unconfined here")
    assert "ALLOW_UNCONFINED_BYPASS=true" in refused
    await bot.stop()
    bot.extra_env["ALLOW_UNCONFINED_BYPASS"] = "true"
    await bot.start()
    await ask(telegram, CHAT, "/mode bypassPermissions", "bypassPermissions")
    await ask(telegram, CHAT, "#pwd", "pwd:")  # and Claude Code works without a box
