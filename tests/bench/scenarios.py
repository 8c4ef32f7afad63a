"""The benchmark's measurements. Each runs its own stand-ins (and bot process) and returns figures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.sessions.store import SessionStore
from tests.e2e.harness import OWNER, ROOT, BotProcess
from tests.e2e.procs import Peaks, Sampler, cli_processes, cmdline, kill_all
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

    def echoed(self, chat: int, text: str) -> float | None:
        """When an echo holding ``text`` as one of its lines appeared (queued messages share one turn)."""
        self.at(chat, text)
        times = [
            at for (shown_chat, shown), at in self._at.items()
            if shown_chat == chat and shown.startswith("echo: ") and text in shown.removeprefix("echo: ").split("\n")
        ]
        return min(times, default=None)


SIGHTS = ("sendMessageDraft", "sendMessage")  # what a private chat is first shown: a draft ("Thinking…" if empty), or a message


async def reply_time(
    telegram: TelegramStandin, shown: Shown, chat: int, text: str, timeout: float, sights: list[float] | None = None
) -> float | None:
    """Seconds from the update entering the Bot API stand-in to the final reply there; None if none came.
    ``sights`` is given the seconds to the first thing the chat was shown (a draft or a message)."""
    pushed = time.monotonic()
    since = len(telegram.calls)
    telegram.user_message(chat, OWNER, text)
    try:
        done = await telegram.wait_for(lambda: shown.at(chat, f"echo: {text}"), timeout)
    except TimeoutError:
        return None
    if sights is not None:
        seen = [c.at for c in telegram.calls[since:] if c.ok and c.method in SIGHTS and c.chat_id == chat]
        sights.append(min(seen) - pushed)
    return done - pushed


def telegram_calls(telegram: TelegramStandin, since: int = 0) -> Counter[str]:
    return Counter(call.method for call in telegram.calls[since:] if call.method != "getUpdates")


@contextlib.asynccontextmanager
async def bot_stage(root: Path, **env: str) -> AsyncIterator[BotProcess]:
    """Fresh stand-ins and a bot process (not started) in a directory of its own."""
    telegram = TelegramStandin()
    claude = MessagesStandin()
    await telegram.start()
    await claude.start()
    bot = BotProcess(telegram, claude, Path(tempfile.mkdtemp(dir=root)))
    bot.extra_env.update({"LOG_LEVEL": "INFO", **env})
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
    sights: list[float]  # message → the first thing the private chat shows (a draft), first replies and follow-ups


async def latency(root: Path, new_chats: int, follow_ups: int, think: float) -> Latency:
    """First replies in new chats (a CLI starts for each), then follow-ups in the latest of them (its CLI is warm)."""
    async with bot_stage(root) as bot:
        await bot.start()
        telegram = bot.telegram
        shown = Shown(telegram)
        first: list[float | None] = []
        sights: list[float] = []
        for n in range(new_chats):
            first.append(await reply_time(telegram, shown, 20_000 + n, f"first {n}", timeout=60, sights=sights))
            await asyncio.sleep(think)
        follow: list[float | None] = []
        for n in range(follow_ups):
            follow.append(await reply_time(telegram, shown, 20_000 + new_chats - 1, f"again {n}", timeout=60, sights=sights))
            await asyncio.sleep(think)  # the user reads the answer before writing the next message
    answered = [t for t in first + follow if t is not None]
    return Latency(
        first=[t for t in first if t is not None],
        follow_up=[t for t in follow if t is not None],
        lost=len(first) + len(follow) - len(answered),
        sights=sights,
    )


# --------------------------------------------------------------------------- load


@dataclass
class Load:
    chats: int
    per_chat: int
    total_seconds: float
    times: list[float]
    lost: int
    calls: Counter[str]  # Telegram calls during the load, by method (getUpdates left out)
    peaks: Peaks
    cap: int

    def per_reply(self, method: str | None = None) -> float:
        count = sum(self.calls.values()) if method is None else self.calls[method]
        return count / max(1, len(self.times))


def logged_cap(log: str) -> int:
    """MAX_LIVE_CLIENTS as the bot logged it at start (its default comes from the memory available)."""
    match = re.search(r"MAX_LIVE_CLIENTS (\d+) ", log)
    assert match, "the bot did not log MAX_LIVE_CLIENTS"
    return int(match.group(1))


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
        calls_before = len(telegram.calls)

        async def user(n: int) -> list[float | None]:
            return [await reply_time(telegram, shown, 30_000 + n, f"load {n} {i}", timeout=300) for i in range(per_chat)]

        started = time.monotonic()
        results = await asyncio.gather(*(user(n) for n in range(chats)))
        total = time.monotonic() - started
        calls = telegram_calls(telegram, calls_before)
        peaks = await sampler.stop()
        cap = logged_cap(bot.log_path.read_text(errors="replace"))
    times = [t for chat in results for t in chat if t is not None]
    return Load(
        chats=chats,
        per_chat=per_chat,
        total_seconds=total,
        times=times,
        lost=chats * per_chat - len(times),
        calls=calls,
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
    resumed_at_start: int  # CLI processes resuming a stored session while restoring (must be 0)
    listing: float  # SessionStore.names() on this SESSION_DIR: what the bot does with the files before polling
    index_to_polling: float  # from the bot's log: sessions indexed -> polling starts


def write_session_files(directory: Path, count: int, work_dir: Path) -> None:
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    for n in range(count):
        chat_id = 40_000_000 + n
        record = {"version": 1, "name": str(chat_id), "chat_id": chat_id, "session_id": str(uuid.uuid4()),
                  "working_dir": str(work_dir), "last_activity": time.time() - n}
        (directory / f"{chat_id}.json").write_text(json.dumps(record))


def _logged_at(log: str, needle: str) -> float:
    line = next(line for line in log.splitlines() if needle in line)
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()  # the bot's log format


async def startup(root: Path, files: int) -> Startup:
    """Spawn the bot on `files` stored sessions; a new chat writes the moment it polls."""
    async with bot_stage(root) as bot:
        bot.work_dir.mkdir(parents=True)
        write_session_files(bot.session_dir, files, bot.work_dir)
        spawned = time.monotonic()
        await bot.start()
        polling = time.monotonic() - spawned
        assert bot.process is not None
        reply = asyncio.create_task(reply_time(bot.telegram, Shown(bot.telegram), 50_000, "right after start", timeout=60))
        resumed = 0  # the new chat's CLI resumes nothing; one for a stored session would
        deadline = time.monotonic() + 120
        while "restored " not in bot.log_path.read_text(errors="replace"):  # logged once every file is parsed
            if time.monotonic() > deadline:
                raise TimeoutError("the bot never logged that it restored its sessions")
            clis = cli_processes(bot.process.pid)
            resumed = max(resumed, sum(1 for pid in clis if "--resume" in cmdline(pid)))
            await asyncio.sleep(0.02)
        restored = time.monotonic() - spawned
        first_reply = await reply
        log = bot.log_path.read_text(errors="replace")
        index_to_polling = _logged_at(log, "Run polling") - _logged_at(log, "stored sessions in")
        started = time.monotonic()
        SessionStore(bot.session_dir).names()
        listing = time.monotonic() - started
    return Startup(files=files, polling=polling, restored=restored, first_reply=first_reply, resumed_at_start=resumed,
                   listing=listing, index_to_polling=index_to_polling)


def import_seconds(modules: str = "bot.app, handlers") -> float:
    """What importing `modules` alone costs on this machine (part of every start)."""
    timed = f"import time; t = time.perf_counter(); import {modules}; print(time.perf_counter() - t)"
    # Timed inside: the interpreter's own start and its (slow) teardown of all those modules don't count.
    result = subprocess.run([sys.executable, "-c", timed], cwd=ROOT, check=True, capture_output=True, text=True)
    return float(result.stdout)


def interpreter_seconds(code: str) -> float:
    """Spawning `python -c CODE` until it exits: what `python -c "import aiogram"` costs, start to end."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - started


async def startups(
    root: Path, files: int, runs: int
) -> tuple[list[Startup], list[Startup], list[float], list[float]]:
    """Empty and full SESSION_DIR, the imports alone and `python -c "import aiogram"`, alternately:
    the machine's noise hits all alike."""
    empty: list[Startup] = []
    full: list[Startup] = []
    imports: list[float] = []
    aiogram: list[float] = []
    for _ in range(runs):
        empty.append(await startup(root, 0))
        full.append(await startup(root, files))
        imports.append(await asyncio.to_thread(import_seconds))
        aiogram.append(await asyncio.to_thread(interpreter_seconds, "import aiogram"))
    return empty, full, imports, aiogram


# --------------------------------------------------------------------------- after a restart


async def after_restart(root: Path, runs: int) -> list[float]:
    """A chat's first reply after a restart, once the bot has pre-started its CLI (it was the most recent)."""
    chat = 70_000
    times: list[float] = []
    async with bot_stage(root) as bot:
        await bot.start()
        await reply_time(bot.telegram, Shown(bot.telegram), chat, "before the restart", timeout=60)
        for n in range(runs):
            await bot.restart()
            deadline = time.monotonic() + 60
            while "pre-started Claude Code" not in bot.start_output():  # logged once the CLI is up
                if time.monotonic() > deadline:
                    raise TimeoutError("the bot never pre-started the recent chat's CLI")
                await asyncio.sleep(0.05)
            took = await reply_time(bot.telegram, Shown(bot.telegram), chat, f"after restart {n}", timeout=60)
            if took is not None:
                times.append(took)
    return times


# --------------------------------------------------------------------------- store writes


@dataclass
class Writes:
    updates: int
    times: list[float]  # when the file was written, seconds after the burst began
    seconds: float  # until the last answer arrived
    lost: int

    def within(self, seconds: float) -> int:
        return sum(1 for t in self.times if t <= seconds)

    def closest(self) -> float:
        """The shortest time between two writes."""
        return min((b - a for a, b in zip(self.times, self.times[1:])), default=float("inf"))


async def burst_writes(root: Path, updates: int) -> Writes:
    """`updates` messages to one chat at once; the chat's file is watched for replacements (atomic writes)."""
    chat = 60_000
    # All of them wait in the queue (by default the 21st would be refused with a sentence).
    async with bot_stage(root, MAX_QUEUED_PER_CHAT=str(updates)) as bot:
        await bot.start()
        telegram = bot.telegram
        path = bot.session_dir / f"{chat}.json"
        times: list[float] = []
        watching = True
        started = time.monotonic()

        async def watch() -> None:
            last = None
            while watching:
                with contextlib.suppress(FileNotFoundError):
                    stat = os.stat(path)
                    if (stat.st_ino, stat.st_mtime_ns) != last:  # every write renames a new file into place
                        times.append(time.monotonic() - started)
                        last = (stat.st_ino, stat.st_mtime_ns)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        shown = Shown(telegram)
        texts = [f"burst {n}" for n in range(updates)]
        for text in texts:
            telegram.user_message(chat, OWNER, text)
        with contextlib.suppress(TimeoutError):
            await telegram.wait_for(lambda: all(shown.echoed(chat, text) for text in texts), timeout=updates * 6)
        seconds = time.monotonic() - started
        await asyncio.sleep(DEBOUNCE + 0.5)  # the last debounced write lands
        watching = False
        await watcher
        lost = sum(1 for text in texts if shown.echoed(chat, text) is None)
    return Writes(updates=updates, times=times, seconds=seconds, lost=lost)
