"""The bot's process tree from /proc: its Claude Code CLI children, and their memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from tests.standins.cli_env import CLI_PATH

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # it exited meanwhile
            continue
        # The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> list[int]:
    parents = _parents()
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def rss_kb(pid: int) -> int:
    """Resident memory of one process in KiB (0 if it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def is_cli(pid: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/exe") == str(CLI_PATH)
    except OSError:
        return False


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def cli_processes(root: int | None = None) -> list[int]:
    """Claude Code CLI processes under `root` (the bot), or anywhere when None."""
    pids = descendants(root) if root is not None else [int(e.name) for e in os.scandir("/proc") if e.name.isdigit()]
    return [pid for pid in pids if is_cli(pid)]


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass
class Peaks:
    bot_kb: int = 0
    children_kb: int = 0
    live_cli: int = 0
    samples: int = 0


class Sampler:
    """Samples the bot's RSS, its descendants' RSS and how many CLIs run, every `interval` seconds."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peaks = Peaks()
        self.pid: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> Peaks:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.peaks

    def sample(self) -> None:
        if self.pid is None:
            return
        children = descendants(self.pid)
        peaks = self.peaks
        peaks.samples += 1
        peaks.bot_kb = max(peaks.bot_kb, rss_kb(self.pid))
        peaks.children_kb = max(peaks.children_kb, sum(rss_kb(pid) for pid in children))
        peaks.live_cli = max(peaks.live_cli, sum(1 for pid in children if is_cli(pid)))

    async def _run(self) -> None:
        while True:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(self.interval)
