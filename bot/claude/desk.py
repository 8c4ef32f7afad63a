"""One conversation at the desk and on the phone: whether someone else continued it, or is writing it now.

The bot's warm CLI holds a conversation in memory as it left it. When the user continues it at the desk
(`claude --resume <id>` in the chat's directory), the desk's CLI appends to the same transcript
(CLAUDE_CONFIG_DIR/projects/<encoded cwd>/<id>.jsonl), each entry's `parentUuid` naming the one before.
A warm client that answered next would chain onto its own last entry, beside the desk's: a fork. So the
runner notes how far the transcript went after each of its turns (`Seen`), and before the next one asks
`continued`: a new prompt past that point (a `user` entry, marked with another entrypoint than the bot's
CLIs write) was written by another process, and the client is closed, so a fresh one resumes the transcript as it now stands and chains onto the desk's last entry.

Writing now: each running Claude Code (2.1.3xx) keeps CLAUDE_CONFIG_DIR/sessions/<pid>.json while it lives,
naming its `sessionId`, its `status` ("busy" while a turn runs, "waiting" while it waits for the user,
"idle" between turns), its `procStart` (the process's start time in clock ticks, as /proc/<pid>/stat
says) and its `pidDomain` (machine id and pid namespace). A writer counts only if that process is alive
(same pid, same start time: a file left by a killed CLI proves nothing) and is not one of the bot's own
CLIs (its descendants, seen through /proc with their pid in their own namespace, as bubblewrap gives them).
A file from a pid namespace this bot cannot see is believed only while its transcript was written in the
last `UNSEEN_FRESH_SECONDS` (a heuristic: it cannot be checked).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

WRITING = {"busy", "waiting"}  # a turn runs, or waits for its user's answer: it goes on writing
UNSAID_SECONDS = 10.0  # a CLI that has not said its status yet counts as writing this long after its start
UNSEEN_FRESH_SECONDS = 120.0
_MAX_DELTA = 64 * 1024 * 1024  # past this much new transcript, no need to read it: someone else wrote


def config_dir() -> Path:
    """Where the bot's Claude Code keeps its state (the box's CLAUDE_CONFIG_DIR, set by __main__)."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(configured) if configured else Path.home() / ".claude"


def transcript_path(session_id: str, directory: str) -> Path | None:
    """The conversation's transcript (None: not written yet): in the directory's project, found as the SDK's
    session helpers find it, else in any project (a conversation carried on after /cd). Not through the
    helpers themselves: on a miss they run `git worktree list` in the workspace, as the bot, outside the box."""
    from claude_agent_sdk._internal.sessions import _canonicalize_path, _find_project_dir

    name = f"{session_id}.jsonl"
    project = _find_project_dir(_canonicalize_path(directory))
    if project is not None and (project / name).is_file():
        return project / name
    found = [path for path in (config_dir() / "projects").glob(f"*/{name}") if path.is_file()]
    return max(found, key=lambda path: path.stat().st_mtime, default=None)


@dataclass(frozen=True)
class Seen:
    """How far a transcript went when the bot's client last finished a turn in it (complete lines only)."""

    path: Path
    size: int


def seen_now(path: Path, block: int = 65536) -> Seen:
    """Up to the end of the transcript's last complete line (read backwards: it may be large)."""
    try:
        with open(path, "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            while end > 0:
                start = max(0, end - block)
                handle.seek(start)
                newline = handle.read(end - start).rfind(b"\n")
                if newline >= 0:
                    return Seen(path, start + newline + 1)
                end = start
    except OSError:
        pass
    return Seen(path, 0)


def continued(seen: Seen, own: str = "") -> tuple[bool, Seen]:
    """Whether another process wrote a prompt into the transcript since `seen`, and how far it now goes.

    Only a `user` entry of another entrypoint than the bot's (`own`) counts: every turn of another writer
    starts with one, while the bot's CLI, which queues its writes and drains them every 100 ms, may still
    land its own turn's entries after the mark, and then its bookkeeping (cost, mode, the last prompt)."""
    try:
        size = seen.path.stat().st_size
    except FileNotFoundError:
        return False, seen
    if size < seen.size:
        return True, Seen(seen.path, 0)  # rewritten from scratch: not what the client holds
    if size == seen.size:
        return False, seen
    if size - seen.size > _MAX_DELTA:
        return True, seen
    with open(seen.path, "rb") as handle:
        handle.seek(seen.size)
        delta = handle.read(size - seen.size)
    complete = delta.rfind(b"\n") + 1
    for line in delta[:complete].splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(entry, dict) and entry.get("type") == "user" and not entry.get("isSidechain")
            and (not own or entry.get("entrypoint") != own)
        ):
            return True, seen
    return False, Seen(seen.path, seen.size + complete)


@dataclass(frozen=True)
class Writer:
    """A live Claude Code process outside the bot that holds a conversation."""

    pid: int
    status: str  # "" while it has not said (a CLI that just started)
    entrypoint: str
    started_at: float = 0.0  # seconds since the epoch


@dataclass(frozen=True)
class _Process:
    ppid: int
    namespace: str  # "pid:[4026531836]"
    inner_pid: int  # its pid in its own namespace (the last NSpid)
    start: str  # clock ticks after boot (/proc/<pid>/stat field 22)


def _processes(proc: Path = Path("/proc")) -> dict[int, _Process]:
    table: dict[int, _Process] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            stat = (entry / "stat").read_text()
            namespace = os.readlink(entry / "ns" / "pid")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        nspid = fields.get("NSpid", entry.name).split()
        table[int(entry.name)] = _Process(
            ppid=int(fields.get("PPid", "0").strip() or 0), namespace=namespace, inner_pid=int(nspid[-1]),
            start=stat.rsplit(")", 1)[1].split()[19],
        )
    return table


def _descendants(table: dict[int, _Process], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, process in table.items():
        children.setdefault(process.ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _machine_id() -> str:
    try:
        return Path("/etc/machine-id").read_text().strip()
    except OSError:
        return ""


def writers(
    session_id: str, state: Path | None = None, *, proc: Path = Path("/proc"), me: int | None = None, machine: str | None = None
) -> list[Writer]:
    """The live Claude Code processes, not the bot's own, that hold the conversation `session_id` now."""
    state = state if state is not None else config_dir()
    try:
        files = list((state / "sessions").glob("*.json"))
    except OSError:
        return []
    claims = []
    for file in files:
        try:
            claim = json.loads(file.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(claim, dict) and claim.get("sessionId") == session_id and isinstance(claim.get("pid"), int):
            claims.append(claim)
    if not claims:
        return []
    table = _processes(proc)
    own = _descendants(table, me if me is not None else os.getpid())
    visible = {p.namespace for p in table.values()}
    machine = _machine_id() if machine is None else machine
    found = []
    for claim in claims:
        parts = str(claim.get("pidDomain") or "").split(":", 2)
        namespace = parts[2] if len(parts) == 3 else ""
        if namespace in visible and (parts[1] == machine or not machine):  # this machine, a namespace in sight
            start = claim.get("procStart")
            alive = [
                pid for pid, p in table.items()
                if p.inner_pid == claim["pid"] and p.namespace == namespace and (start is None or p.start == str(start))
            ]
            if not alive or any(pid in own for pid in alive):
                continue  # a file left by a dead process, or one of the bot's own CLIs
        elif not _recently_written(state, claim, session_id):
            continue  # a pid namespace (or machine) the bot cannot see: believed only while fresh
        started = claim.get("startedAt")
        found.append(Writer(
            pid=claim["pid"], status=str(claim.get("status") or ""), entrypoint=str(claim.get("entrypoint") or ""),
            started_at=float(started) / 1000 if isinstance(started, (int, float)) else 0.0,
        ))
    return found


def _recently_written(state: Path, claim: dict[str, object], session_id: str) -> bool:
    cwd = claim.get("cwd")
    updated = claim.get("statusUpdatedAt") or claim.get("updatedAt")
    newest = float(updated) / 1000 if isinstance(updated, (int, float)) else 0.0
    if isinstance(cwd, str):
        try:
            path = transcript_path(session_id, cwd)
            if path is not None:
                newest = max(newest, path.stat().st_mtime)
        except (OSError, ImportError):
            pass
    return time.time() - newest < UNSEEN_FRESH_SECONDS


def writing_elsewhere(session_id: str, state: Path | None = None, **where: Any) -> Writer | None:
    """A process outside the bot in the middle of a turn of this conversation (or just started: it has not
    said yet), if any."""
    for writer in writers(session_id, state, **where):
        if writer.status in WRITING or (writer.status == "" and time.time() - writer.started_at < UNSAID_SECONDS):
            return writer
    return None


class DeskWatch:
    """What the runner asks before and after its turns, read in a thread (a transcript can be large)."""

    poll_seconds = 0.5  # how often a waiting turn looks whether the desk's turn has ended
    # Claude Code drains its transcript writes every 100 ms: once a writer is done, this long without growth
    # means all it wrote is there.
    settle_seconds = 0.3
    settle_limit = 5.0

    def __init__(self, own: str = "") -> None:
        self.own = own  # the entrypoint the bot's CLIs write (their entries are never the desk's)

    async def seen(self, session_id: str, directory: str) -> Seen | None:
        def now() -> Seen | None:
            path = transcript_path(session_id, directory)
            return seen_now(path) if path is not None else None

        return await asyncio.to_thread(now)

    async def settled(self, session_id: str, directory: str) -> None:
        """Until the transcript has stopped growing (a writer that just ended may not have drained it yet)."""
        path = await asyncio.to_thread(transcript_path, session_id, directory)
        if path is None:
            return
        last, deadline = -1, time.monotonic() + self.settle_limit
        while time.monotonic() < deadline:
            try:
                size = path.stat().st_size
            except OSError:
                return
            if size == last:
                return
            last = size
            await asyncio.sleep(self.settle_seconds)

    async def continued(self, seen: Seen) -> tuple[bool, Seen]:
        try:
            return await asyncio.to_thread(continued, seen, self.own)
        except OSError as exc:  # unreadable: resume from it rather than answer beside it
            log.warning("could not read the transcript %s: %s", seen.path, exc)
            return True, seen

    async def holders(self, session_id: str) -> list[Writer]:
        """Every live Claude Code outside the bot that holds the conversation, busy or not (for /status)."""
        try:
            return await asyncio.to_thread(writers, session_id)
        except OSError as exc:
            log.warning("could not tell whether another Claude Code holds %s: %s", session_id, exc)
            return []

    async def writing(self, session_id: str) -> Writer | None:
        try:
            return await asyncio.to_thread(writing_elsewhere, session_id)
        except OSError as exc:
            log.warning("could not tell whether another Claude Code writes %s: %s", session_id, exc)
            return None
