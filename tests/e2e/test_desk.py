"""One conversation at the desk and on the phone (issue 21): the real bot, the real CLI on both sides.

The desk is the same bundled CLI, run by the test with the command /status gives (as root: as tg-claude, with
the bot's Claude Code home and CLAUDE_CONFIG_DIR) and the stand-in's ANTHROPIC_BASE_URL in its environment.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.claude.runner import ENTRYPOINT
from bot.telegram.reply import DESK_WAIT
from tests.e2e.accounts import bot_as
from tests.e2e.chat import ask
from tests.e2e.harness import OWNER, BotProcess
from tests.e2e.terminal import Tmux
from tests.standins.cli_env import CLI_PATH
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

CHAT = OWNER  # a private chat


@pytest.fixture(params=["root", "user"])
async def either(request: pytest.FixtureRequest, telegram: TelegramStandin, claude_api: MessagesStandin, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """The bot as root (Claude Code as tg-claude in its box) or as an ordinary user (bubblewrap as that user),
    as tests/e2e/test_box.py runs it; the desk is a terminal of the same account."""
    async with bot_as(request.param, telegram, claude_api, tmp_path) as process:
        yield process


async def start(bot: BotProcess) -> None:
    bot.extra_env["TELEGRAM_DRAFTS"] = "false"  # the progress is a message the test can read
    await bot.start()


async def desk_command(telegram: TelegramStandin) -> str:
    """The command /status gives for continuing this chat at the desk."""
    status = await ask(telegram, CHAT, "/status", "At the desk")
    lines = (status or "").splitlines()
    return html.unescape(next(line for line in lines if line.startswith("cd '")))


async def at_desk(bot: BotProcess, command: str, *args: str, timeout: float = 60) -> str:
    """The desk's command run in a shell (the user's terminal: the stand-in is its API), its output."""
    process = await desk_process(bot, command, *args)
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode == 0, out.decode(errors="replace")
    return out.decode(errors="replace")


def desk_env(bot: BotProcess) -> dict[str, str]:
    """A terminal of the bot's account: its HOME and PATH (with `claude` on it), no CLAUDE_CONFIG_DIR (the command
    names it when it must), the stand-in as its API."""
    bin_dir = bot.tmp / "desk-bin"
    bin_dir.mkdir(exist_ok=True)
    os.chown(bin_dir, bot.tmp.stat().st_uid, bot.tmp.stat().st_gid)
    if not (bin_dir / "claude").exists():
        (bin_dir / "claude").symlink_to(CLI_PATH)
    env = {k: v for k, v in bot.env().items() if k != "CLAUDE_CONFIG_DIR"}
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


async def desk_process(bot: BotProcess, command: str, *args: str) -> asyncio.subprocess.Process:
    line = command + "".join(f" '{arg}'" for arg in args)
    as_bot = bot.python[:-1] if bot.python[0] == "setpriv" else []  # the bot's account, when it is not root's
    return await asyncio.create_subprocess_exec(
        *as_bot, "sh", "-c", line, env=desk_env(bot), cwd="/", stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )


def transcript(bot: BotProcess) -> Path:
    found = list((bot.home / ".claude" / "projects").glob("*/*.jsonl"))
    assert len(found) == 1, found
    return found[0]


def dump(path: Path) -> str:
    rows = []
    for line in path.read_text().splitlines():
        e = json.loads(line)
        content = (e.get("message") or {}).get("content")
        rows.append(f"{e.get('type')} {e.get('subtype', '')} {str(e.get('uuid'))[:8]} <- {str(e.get('parentUuid'))[:8]} {e.get('entrypoint')} {e.get('timestamp')} {str(content)[:60]!r}")
    return "\n".join(rows)


def chain_prompts(path: Path) -> list[str]:
    """The prompts on the transcript's line of history: from its newest entry back along `parentUuid`."""
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_uuid = {e["uuid"]: e for e in entries if e.get("uuid")}
    chained = [e for e in entries if e.get("uuid") and not e.get("isSidechain")]
    node: dict | None = chained[-1]
    line = []
    while node is not None:
        line.append(node)
        node = by_uuid.get(node.get("parentUuid") or "")
    prompts = []
    for entry in reversed(line):
        content = (entry.get("message") or {}).get("content") if entry.get("type") == "user" else None
        if isinstance(content, str):
            prompts.append(content)
        elif isinstance(content, list):
            prompts += [b["text"] for b in content if b.get("type") == "text" and not b["text"].startswith("<")]
    return prompts


async def one_line_of(bot: BotProcess, prompts: list[str]) -> None:
    """Until the transcript holds these prompts (Claude Code drains its writes every 100 ms), then: they are
    all there is, on one line of history from its newest entry."""
    deadline = asyncio.get_running_loop().time() + 30
    path = transcript(bot)
    while user_prompts(path) != prompts and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    assert chain_prompts(path) == user_prompts(path) == prompts, dump(path)


def user_prompts(path: Path) -> list[str]:
    """Every prompt written to the transcript, wherever it chains."""
    prompts = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        content = (entry.get("message") or {}).get("content") if entry.get("type") == "user" else None
        if isinstance(content, str):
            prompts.append(content)
    return prompts


async def test_desk_and_phone_hold_one_conversation(either: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    bot = either
    await start(bot)
    assert "echo: phone one" in await ask(telegram, CHAT, "phone one", "echo: phone one")
    command = await desk_command(telegram)
    session_id = command.rsplit(" ", 1)[1]
    assert command.startswith(f"cd '{bot.work_dir}' && ")
    if bot.python[0] != "setpriv" and os.geteuid() == 0:  # Claude Code runs as tg-claude in the box: so does the desk
        assert f" && '{bot.session_dir / '.claude-launcher'}' --resume " in command
    else:  # the bot's own account, its state where that account's `claude` looks
        assert f" && claude --resume {session_id}" in command
    assert command.endswith(f"--resume {session_id}")

    # At the desk: the conversation goes on, with the phone's turn in view.
    assert "history: phone one | desk two" in await at_desk(bot, command, "-p", "desk two #history")

    # Back on the phone: Claude sees the desk's turn, and its answer chains onto it (no fork).
    answer = await ask(telegram, CHAT, "phone three #history", "history:")
    assert "history: phone one | desk two #history | phone three #history" in answer
    phone = claude_api.main_requests()[-1]
    assert phone.session_id == session_id
    assert any("history: phone one | desk two" in json.dumps(m) for m in phone.body["messages"] if m["role"] == "assistant")

    # At the desk again: the phone's turn is there.
    out = await at_desk(bot, command, "-p", "desk four #history")
    assert "history: phone one | desk two #history | phone three #history | desk four #history" in out
    await one_line_of(bot, ["phone one", "desk two #history", "phone three #history", "desk four #history"])
    assert telegram.errors() == []


async def test_a_phone_message_waits_while_the_desk_is_mid_turn(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await start(bot)
    await ask(telegram, CHAT, "phone one", "echo: phone one")
    command = await desk_command(telegram)
    released = asyncio.Event()

    async def hold_the_desk(body: dict, request: object) -> None:  # its answer waits until the test says
        if "desk slow" in getattr(request, "last_user_text", ""):
            await released.wait()

    claude_api.script = hold_the_desk
    desk = await desk_process(bot, command, "-p", "#slow 2 desk slow")
    await claude_api.wait_for(lambda: any("desk slow" in r.last_user_text for r in claude_api.main_requests()), timeout=60)
    before = len(claude_api.main_requests())

    telegram.user_message(CHAT, OWNER, "phone two #history")
    waiting = await telegram.wait_for(lambda: next((m for m in telegram.bot_messages(CHAT) if DESK_WAIT in (m.text or "")), None), timeout=30)
    assert waiting.text == DESK_WAIT
    assert len(claude_api.main_requests()) == before, "the phone's turn reached Claude while the desk wrote"
    released.set()

    out, _ = await asyncio.wait_for(desk.communicate(), 60)
    assert "echo: #slow 2 desk slow" in out.decode()
    answer = await telegram.wait_for(
        lambda: next((m.text for m in telegram.bot_messages(CHAT) if "history:" in (m.text or "") and DESK_WAIT not in m.text), None),
        timeout=60,
    )
    assert "history: phone one | #slow 2 desk slow | phone two #history" in answer
    phone = claude_api.main_requests()[-1]
    assert phone.at >= max(r.done_at or 0 for r in claude_api.main_requests()[:before])  # after the desk's answer
    assert any("echo: #slow 2 desk slow" in json.dumps(m) for m in phone.body["messages"] if m["role"] == "assistant")
    # The waiting line was the progress of that turn: it became the answer (or gave way to it).
    assert waiting.message_id in {m.message_id for m in telegram.bot_messages(CHAT, include_deleted=True)}

    await one_line_of(bot, ["phone one", "#slow 2 desk slow", "phone two #history"])
    assert telegram.errors() == []


def _trusting(state: Path, work: Path) -> None:
    """What a first interactive start asks (onboarding, the API key, trusting the folder), answered in advance
    in the bot's Claude Code state, edited in place (it stays the box user's)."""
    config = state / ".claude.json"
    data = json.loads(config.read_text())
    data.update(hasCompletedOnboarding=True, customApiKeyResponses={"approved": ["sk-test"], "rejected": []})
    data.setdefault("projects", {}).setdefault(str(work), {})["hasTrustDialogAccepted"] = True
    with open(config, "r+") as handle:
        handle.truncate(0)
        handle.write(json.dumps(data))


async def test_the_bots_sessions_show_in_the_desks_resume_picker(bot: BotProcess, telegram: TelegramStandin, tmp_path: Path) -> None:
    await start(bot)
    await ask(telegram, CHAT, "phone picker prompt", "echo: phone picker prompt")
    command = await desk_command(telegram)
    entries = [json.loads(line) for line in transcript(bot).read_text().splitlines()]
    assert {e["entrypoint"] for e in entries if "entrypoint" in e} == {ENTRYPOINT}
    # The SDK's own mark hides a session from the picker: one made with it must not show (the control).
    hidden = await at_desk(bot, re.sub(r" --resume \S+$", "", command), "-p", "hidden sdk prompt", "--output-format", "json")
    assert json.loads(hidden.splitlines()[-1])["result"] == "echo: hidden sdk prompt"

    _trusting(bot.home / ".claude", bot.work_dir)
    terminal = Tmux(tmp_path)
    try:
        env = {k: v for k, v in desk_env(bot).items() if k in ("HOME", "PATH", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "NO_PROXY", "no_proxy")}
        env.update(TERM="xterm-256color", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1")
        terminal.start(re.sub(r" --resume \S+$", " --resume", command), env, Path("/"))
        await terminal.wait("Resume session", timeout=60)
        await terminal.wait("phone picker prompt", timeout=30)
        assert "hidden sdk prompt" not in terminal.screen()
        # Picked, it goes on in the terminal, with the phone's turn in view.
        terminal.send("", enter=True)
        await terminal.wait("● echo: phone picker prompt", timeout=30)  # the conversation is loaded: its input is next
        await terminal.wait("❯", timeout=30, after=terminal.screen().find("● echo: phone picker prompt"))
        terminal.send("desk typed #history", enter=False)
        await terminal.wait("desk typed #history", timeout=30)
        terminal.send("", enter=True)
        await terminal.wait("history: phone picker prompt | desk typed #history", timeout=60)
        # Left open there, it would not see the phone's next turn: /status says so (once its turn has ended:
        # until then it says the desk is mid-turn).
        for _ in range(20):
            status = await ask(telegram, CHAT, "/status", "At the desk")
            if "mid-turn" not in status:
                break
        assert "Claude Code is open at the desk on this conversation" in status
        terminal.send("/exit")
        await terminal.wait("[terminal: exit 0]", timeout=30)
    finally:
        terminal.close()
    # Back on the phone: the terminal's turn is there too, and nothing holds the conversation any more.
    assert "open at the desk" not in await ask(telegram, CHAT, "/status", "At the desk")
    answer = await ask(telegram, CHAT, "phone again #history", "history:")
    assert "history: phone picker prompt | desk typed #history | phone again #history" in answer

