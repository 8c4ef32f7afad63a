"""The benchmark's measurements. Each runs its own stand-ins (and bot process) and returns figures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.harness import OWNER, ROOT, BotProcess
from tests.e2e.procs import Peaks, Sampler, cli_processes, kill_all
from tests.standins.cli_env import CLI_PATH, cli_env, scrubbed_environ
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

SHOWN = ("sendMessage", "editMessageText")
DEBOUNCE = 1.0  # bot/store.py: at most one write per session per second


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


class Shown:
    """When each text first appeared in a chat (sent, or edited into a message), by the stand-in's clock."""

    def __init__(self, telegram: TelegramStandin) -> None:
        self.telegram = telegram
        self._read = 0
        self._at: dict[tuple[int, str], float] = {}

    def at(self, chat: int, text: str) -> float | None:
        calls = self.telegram.calls
        for call in calls[self._read :]:
            if call.ok and call.method in SHOWN:
                self._at.setdefault((call.chat_id, str(call.params.get("text"))), call.at)
        self._read = len(calls)
        return self._at.get((chat, text))


async def reply_time(telegram: TelegramStandin, shown: Shown, chat: int, text: str, timeout: float) -> float | None:
    """Seconds from the update entering the Bot API stand-in to the final reply there; None if none came."""
    pushed = time.monotonic()
    telegram.user_message(chat, OWNER, text)
    try:
        done = await telegram.wait_for(lambda: shown.at(chat, f"echo: {text}"), timeout)
    except TimeoutError:
        return None
    return done - pushed


def telegram_calls(telegram: TelegramStandin) -> int:
    return sum(1 for call in telegram.calls if call.method != "getUpdates")


@contextlib.asynccontextmanager
async def bot_stage(root: Path, **env: str) -> AsyncIterator[BotProcess]:
    """Fresh stand-ins and a bot process (not started) in a directory of its own."""
    telegram = TelegramStandin()
    claude = MessagesStandin()
    await telegram.start()
    await claude.start()
    bot = BotProcess(telegram, claude, Path(tempfile.mkdtemp(dir=root)))
    bot.extra_env.update(LOG_LEVEL="INFO", **env)
    try:
        yield bot
    finally:
        if bot.process is not None and bot.process.returncode is None:
            pid = bot.process.pid
            children = cli_processes(pid)
            await bot.stop()
            kill_all([p for p in children if p in cli_processes()])  # none should be left; never leak one
        await telegram.stop()
        await claude.stop()


# --------------------------------------------------------------------------- the anchor


async def _cli_turn(env: dict[str, str], cwd: Path, *args: str) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        str(CLI_PATH), "-p", *args, "--output-format", "json",
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"claude -p failed ({process.returncode}): {err.decode()[-500:]}")
    return json.loads(out)


async def raw_cli_round_trips(root: Path, runs: int) -> list[float]:
    """`claude -p … --resume` against the stand-in: a new CLI process per turn, as `query()` does."""
    tmp = Path(tempfile.mkdtemp(dir=root))
    work = tmp / "work"
    work.mkdir()
    async with MessagesStandin() as api:
        env = scrubbed_environ(cli_env(tmp / "home", api.base_url))
        session_id = str((await _cli_turn(env, work, "hello"))["session_id"])
        times = []
        for n in range(runs):
            started = time.monotonic()
            result = await _cli_turn(env, work, f"again {n}", "--resume", session_id)
            times.append(time.monotonic() - started)
            session_id = str(result["session_id"])
    return times


# --------------------------------------------------------------------------- latency


@dataclass
class Latency:
    first: list[float]
    follow_up: list[float]
    lost: int


async def latency(root: Path, new_chats: int, follow_ups: int, think: float) -> Latency:
    """First replies in new chats (a CLI starts for each), then follow-ups in one active chat."""
    async with bot_stage(root) as bot:
        await bot.start()
        telegram = bot.telegram
        shown = Shown(telegram)
        first: list[float | None] = []
        for n in range(new_chats):
            first.append(await reply_time(telegram, shown, 20_000 + n, f"first {n}", timeout=60))
            await asyncio.sleep(think)
        follow: list[float | None] = []
        for n in range(follow_ups):
            follow.append(await reply_time(telegram, shown, 20_000, f"again {n}", timeout=60))
            await asyncio.sleep(think)  # the user reads the answer before writing the next message
    answered = [t for t in first + follow if t is not None]
    return Latency(
        first=[t for t in first if t is not None],
        follow_up=[t for t in follow if t is not None],
        lost=len(first) + len(follow) - len(answered),
    )


# --------------------------------------------------------------------------- load


@dataclass
class Load:
    chats: int
    per_chat: int
    total_seconds: float
    times: list[float]
    lost: int
    calls_per_reply: float
    peaks: Peaks
    cap: int


async def load(root: Path, chats: int, per_chat: int, concurrent: int) -> Load:
    """`chats` users at once, each sending `per_chat` messages, the next as soon as the answer is there."""
    async with bot_stage(root, MAX_CONCURRENT_QUERIES=str(concurrent)) as bot:
        sampler = Sampler()
        await bot.start()
        assert bot.process is not None
        sampler.pid = bot.process.pid
        sampler.start()
        telegram = bot.telegram
        shown = Shown(telegram)
        calls_before = telegram_calls(telegram)

        async def user(n: int) -> list[float | None]:
            return [await reply_time(telegram, shown, 30_000 + n, f"load {n} {i}", timeout=300) for i in range(per_chat)]

        started = time.monotonic()
        results = await asyncio.gather(*(user(n) for n in range(chats)))
        total = time.monotonic() - started
        calls = telegram_calls(telegram) - calls_before
        peaks = await sampler.stop()
        cap = int(bot.env().get("MAX_LIVE_CLIENTS", "8"))
    times = [t for chat in results for t in chat if t is not None]
    return Load(
        chats=chats,
        per_chat=per_chat,
        total_seconds=total,
        times=times,
        lost=chats * per_chat - len(times),
        calls_per_reply=calls / max(1, len(times)),
        peaks=peaks,
        cap=cap,
    )


# --------------------------------------------------------------------------- start-up


@dataclass
class Startup:
    files: int
    polling: float  # process spawned -> first getUpdates
    restored: float  # process spawned -> every file parsed (logged by the bot)
    first_reply: float | None  # a message sent the moment polling began
    cli_at_start: int  # CLI processes while restoring (must be 0)


def write_session_files(directory: Path, count: int, work_dir: Path) -> None:
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    for n in range(count):
        chat_id = 40_000_000 + n
        record = {"version": 1, "name": str(chat_id), "chat_id": chat_id, "session_id": str(uuid.uuid4()),
                  "working_dir": str(work_dir), "last_activity": time.time() - n}
        (directory / f"{chat_id}.json").write_text(json.dumps(record))


async def _log_line(bot: BotProcess, needle: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while needle not in bot.log_path.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{needle!r} not logged within {timeout}s")
        await asyncio.sleep(0.02)
    return time.monotonic()


async def startup(root: Path, files: int) -> Startup:
    async with bot_stage(root) as bot:
        bot.work_dir.mkdir(parents=True)
        write_session_files(bot.session_dir, files, bot.work_dir)
        spawned = time.monotonic()
        await bot.start()
        polling = time.monotonic() - spawned
        assert bot.process is not None
        cli_at_start = len(cli_processes(bot.process.pid))
        reply = asyncio.create_task(reply_time(bot.telegram, Shown(bot.telegram), 50_000, "right after start", timeout=60))
        restored = await _log_line(bot, "restored ", timeout=120) - spawned
        first_reply = await reply
    return Startup(files=files, polling=polling, restored=restored, first_reply=first_reply, cli_at_start=cli_at_start)


def import_seconds() -> float:
    """What importing the bot's modules alone costs on this machine (part of every start)."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import bot.app, handlers"], cwd=ROOT, check=True)
    return time.monotonic() - started


# --------------------------------------------------------------------------- store writes


@dataclass
class Writes:
    updates: int
    writes: int
    seconds: float
    lost: int
    leftovers: list[str] = field(default_factory=list)  # bot messages still saying "Queued" at the end


async def burst_writes(root: Path, updates: int) -> Writes:
    """`updates` messages to one chat at once; the chat's file is watched for replacements (atomic writes)."""
    chat = 60_000
    async with bot_stage(root) as bot:
        await bot.start()
        telegram = bot.telegram
        path = bot.session_dir / f"{chat}.json"
        writes = 0
        watching = True

        async def watch() -> None:
            nonlocal writes
            last = None
            while watching:
                with contextlib.suppress(FileNotFoundError):
                    stat = os.stat(path)
                    if (stat.st_ino, stat.st_mtime_ns) != last:
                        writes += last is not None or stat.st_size > 0
                        last = (stat.st_ino, stat.st_mtime_ns)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        shown = Shown(telegram)
        started = time.monotonic()
        texts = [f"burst {n}" for n in range(updates)]
        for text in texts:
            telegram.user_message(chat, OWNER, text)
        with contextlib.suppress(TimeoutError):
            await telegram.wait_for(lambda: all(shown.at(chat, f"echo: {text}") for text in texts), timeout=updates * 6)
        seconds = time.monotonic() - started
        await asyncio.sleep(DEBOUNCE + 0.5)  # the last debounced write lands
        watching = False
        await watcher
        lost = sum(1 for text in texts if shown.at(chat, f"echo: {text}") is None)
        leftovers = [m.text or "" for m in telegram.bot_messages(chat) if "Queued" in (m.text or "")]
    return Writes(updates=updates, writes=writes, seconds=seconds, lost=lost, leftovers=leftovers)
