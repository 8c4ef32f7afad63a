"""bot/claude/desk.py: a transcript continued by another process, and a live writer of a conversation.

The /proc tree and Claude Code's sessions/<pid>.json files are written here as the kernel and the CLI write
them (tests/e2e/test_desk.py runs the real CLI against the real ones)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from bot.claude.desk import Seen, Writer, continued, seen_now, transcript_path, writers, writing_elsewhere
from bot.claude.events import DeskBusy
from bot.claude.framing import Prompt
from bot.claude.runner import ClaudeRunner
from bot.sessions.keys import ChatKey
from bot.sessions.records import SessionRecord
from bot.sessions.session import ClaudeSession, Turn
from bot.sessions.store import SessionStore
from tests.unit.claude.test_runner import FakeCLI

SID = "6d7f3711-ef26-4af5-9e86-14d86eb635cd"
MACHINE = "3d1219c7c4c5404aaa1f6d2a48adfda4"
HOST = "pid:[4026531836]"
BOX = "pid:[4026532999]"  # a bubblewrap's pid namespace


def entry(kind: str, **more: Any) -> str:
    return json.dumps({"type": kind, "sessionId": SID, **more}) + "\n"


def user(text: str, **more: Any) -> str:
    return entry("user", uuid=f"u-{text}", parentUuid="p", message={"role": "user", "content": text}, **more)


BOOKKEEPING = entry("last-prompt", lastPrompt="x", leafUuid="a") + entry("cost-state", totalCostUSD=0.1) + entry("mode", mode="normal")


# -- the transcript ------------------------------------------------------------------


def test_seen_stops_at_the_last_complete_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(user("one") + '{"type": "assi')
    assert seen_now(path) == Seen(path, len(user("one")))
    assert seen_now(path, block=7) == Seen(path, len(user("one")))  # found reading backwards in small blocks
    assert seen_now(tmp_path / "missing.jsonl").size == 0


def test_a_prompt_written_since_is_a_continuation(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(user("phone"))
    seen = seen_now(path)
    assert continued(seen) == (False, seen)
    with open(path, "a") as handle:
        handle.write(entry("queue-operation", operation="enqueue") + user("desk"))
    assert continued(seen)[0] is True


def test_the_bots_own_entries_landing_after_its_turn_are_not(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(user("phone", entrypoint="tg-claude-code"))
    seen = seen_now(path)
    with open(path, "a") as handle:  # its CLI drains its writes every 100 ms: some land after the answer
        handle.write(user("phone tool result", entrypoint="tg-claude-code") + entry("assistant", uuid="a2") + BOOKKEEPING)
    again, later = continued(seen, own="tg-claude-code")
    assert again is False and later.size == path.stat().st_size  # read once: the next look starts there
    assert continued(seen)[0] is True  # (not knowing its own mark, any prompt counts)
    with open(path, "a") as handle:
        handle.write(user("desk", entrypoint="cli"))
    assert continued(later, own="tg-claude-code")[0] is True


def test_a_sidechain_prompt_and_a_half_written_line_are_not(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(user("phone"))
    seen = seen_now(path)
    half = user("desk")
    with open(path, "a") as handle:
        handle.write(user("subagent", isSidechain=True) + half[:20])
    again, later = continued(seen)
    assert again is False
    with open(path, "a") as handle:
        handle.write(half[20:])
    assert continued(later)[0] is True  # the line, once complete, is read from its start


def test_a_transcript_rewritten_shorter_is_a_continuation(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(user("phone") + BOOKKEEPING)
    seen = seen_now(path)
    path.write_text(entry("summary"))
    assert continued(seen)[0] is True
    path.unlink()
    assert continued(seen) == (False, seen)  # nothing to resume from: the warm client is all there is


def test_the_transcript_is_found_in_its_directorys_project_or_any_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "state"))
    work = tmp_path / "my work"
    work.mkdir()
    project = tmp_path / "state" / "projects" / str(work).replace("/", "-").replace(" ", "-")
    project.mkdir(parents=True)
    assert transcript_path(SID, str(work)) is None
    (project / f"{SID}.jsonl").write_text(user("one"))
    assert transcript_path(SID, str(work)) == project / f"{SID}.jsonl"
    assert transcript_path(SID, str(tmp_path)) == project / f"{SID}.jsonl"  # after a /cd: wherever it is


# -- live writers ------------------------------------------------------------------


class Machine:
    """A /proc tree and a CLAUDE_CONFIG_DIR/sessions directory."""

    def __init__(self, tmp: Path) -> None:
        self.proc = tmp / "proc"
        self.state = tmp / "state"
        (self.state / "sessions").mkdir(parents=True)
        self.process(1, 0)

    def process(self, pid: int, ppid: int, *, start: int = 1000, namespace: str = HOST, inner: int | None = None) -> None:
        folder = self.proc / str(pid)
        (folder / "ns").mkdir(parents=True)
        nspid = f"{pid}\t{inner}" if inner is not None else str(pid)
        (folder / "status").write_text(f"Name:\tclaude\nPPid:\t{ppid}\nNSpid:\t{nspid}\n")
        fields = ["S", str(ppid)] + ["0"] * 17 + [str(start)] + ["0"] * 10
        (folder / "stat").write_text(f"{pid} (claude (x)) " + " ".join(fields) + "\n")
        os.symlink(namespace, folder / "ns" / "pid")

    def claim(self, pid: int, *, status: str | None = "busy", start: int = 1000, namespace: str = HOST,
              machine: str = MACHINE, session: str = SID, started: float | None = None) -> None:
        data: dict[str, Any] = {
            "pid": pid, "sessionId": session, "cwd": "/nowhere", "procStart": str(start), "kind": "interactive",
            "entrypoint": "cli", "pidDomain": f"linux:{machine}:{namespace}",
            "startedAt": int((started if started is not None else time.time() - 60) * 1000),
        }
        if status is not None:
            data["status"] = status
        (self.state / "sessions" / f"{pid}.json").write_text(json.dumps(data))

    def writers(self, me: int = 100) -> list[Writer]:
        return writers(SID, self.state, proc=self.proc, me=me, machine=MACHINE)


@pytest.fixture
def box(tmp_path: Path) -> Machine:
    machine = Machine(tmp_path)
    machine.process(100, 1)  # the bot
    return machine


def test_a_live_desk_cli_is_a_writer(box: Machine) -> None:
    box.process(200, 1)
    box.claim(200)
    assert [w.pid for w in box.writers()] == [200]
    assert writers("another-session", box.state, proc=box.proc, me=100, machine=MACHINE) == []


def test_a_file_left_by_a_dead_or_reborn_process_is_not(box: Machine) -> None:
    box.claim(300)  # no such process
    box.process(200, 1, start=5555)
    box.claim(200, start=1000)  # that pid is another process now (its start time differs)
    assert box.writers() == []


def test_the_bots_own_clis_are_not_even_inside_their_box(box: Machine) -> None:
    box.process(101, 100)  # the launcher's setpriv
    box.process(102, 101, namespace=BOX, inner=1)  # bwrap's init in the box
    box.process(103, 102, namespace=BOX, inner=3)  # the CLI: pid 3 in its namespace
    box.claim(3, namespace=BOX)
    box.process(400, 1, namespace="pid:[4026533000]", inner=3)  # a desk CLI boxed elsewhere, also pid 3 there
    assert box.writers() == []
    (box.state / "sessions" / "3.json").unlink()
    box.claim(3, namespace="pid:[4026533000]")
    assert [w.pid for w in box.writers()] == [3]


def test_a_writer_the_bot_cannot_see_counts_only_while_fresh(box: Machine) -> None:
    box.claim(200, machine="another-machine")
    assert box.writers() == []  # nothing of it written lately
    data = json.loads((box.state / "sessions" / "200.json").read_text())
    data["statusUpdatedAt"] = int(time.time() * 1000)
    (box.state / "sessions" / "200.json").write_text(json.dumps(data))
    assert [w.pid for w in box.writers()] == [200]


def test_only_a_writer_mid_turn_makes_the_phone_wait(box: Machine) -> None:
    def waits() -> bool:
        return writing_elsewhere(SID, box.state, proc=box.proc, me=100, machine=MACHINE) is not None

    box.process(200, 1)
    for status, expected in [("busy", True), ("waiting", True), ("idle", False)]:
        box.claim(200, status=status)
        assert waits() is expected, status
    box.claim(200, status=None, started=time.time())  # just started: it has not said yet
    assert waits()
    box.claim(200, status=None, started=time.time() - 60)  # never says: not believed forever
    assert not waits()


# -- the runner ------------------------------------------------------------------


class FakeDesk:
    """The runner's DeskWatch: a transcript that grows when the test says, a desk that is busy for a while."""

    poll_seconds = 0.01

    def __init__(self) -> None:
        self.prompts = 0  # prompts written by the desk so far
        self.busy_polls = 0  # how many more looks find the desk mid-turn
        self.settles = 0
        self.entrypoint = "cli"  # the busy writer's mark

    async def seen(self, session_id: str, directory: str) -> Seen:
        return Seen(Path(session_id), self.prompts)

    async def continued(self, seen: Seen) -> tuple[bool, Seen]:
        return self.prompts > seen.size, seen

    async def settled(self, session_id: str, directory: str) -> None:
        self.settles += 1

    async def writing(self, session_id: str) -> Writer | None:
        if self.busy_polls <= 0:
            return None
        self.busy_polls -= 1
        return Writer(pid=1, status="busy", entrypoint=self.entrypoint)


@pytest.fixture(autouse=True)
def _fake_cli() -> None:
    FakeCLI.alive = FakeCLI.peak = 0
    FakeCLI.connects = []
    FakeCLI.instances = []


async def test_a_conversation_continued_elsewhere_is_resumed_by_a_fresh_cli(tmp_path: Path) -> None:
    watch = FakeDesk()
    runner = ClaudeRunner(base_options=dict, client=FakeCLI, desk=watch)  # type: ignore[arg-type]
    session = ClaudeSession(record=SessionRecord(name="a", working_dir="/tmp"), store=SessionStore(tmp_path))
    events: list[Any] = []

    async def turn(text: str) -> None:
        outcome = await runner.run(session, Turn(key=ChatKey(1), prompt=text), Prompt(text), events.append)
        session.record.session_id = outcome.session_id

    await turn("1")
    await turn("2")
    assert len(FakeCLI.instances) == 1  # nobody else wrote: the warm CLI answers
    watch.prompts += 1  # a turn at the desk
    await turn("3")
    assert len(FakeCLI.instances) == 2 and FakeCLI.connects[-1] == session.session_id
    assert FakeCLI.instances[0].options.env["CLAUDE_CODE_ENTRYPOINT"] == "tg-claude-code"
    await turn("4")
    assert len(FakeCLI.instances) == 2  # the fresh one saw the transcript as it was: nothing new since
    assert events == [e for e in events if not isinstance(e, DeskBusy)]
    await runner.close_all()


async def test_a_turn_waits_while_the_desk_is_mid_turn_and_says_so(tmp_path: Path) -> None:
    watch = FakeDesk()
    runner = ClaudeRunner(base_options=dict, client=FakeCLI, desk=watch)  # type: ignore[arg-type]
    session = ClaudeSession(record=SessionRecord(name="a", working_dir="/tmp", session_id="sid-x"), store=SessionStore(tmp_path))
    events: list[Any] = []
    watch.busy_polls = 5
    outcome = await runner.run(session, Turn(key=ChatKey(1), prompt="hi"), Prompt("hi"), events.append)
    assert outcome.text == "echo: hi" and watch.busy_polls == 0
    assert [e for e in events if isinstance(e, DeskBusy)] == [DeskBusy(True), DeskBusy(False)]
    assert watch.settles == 1  # what the desk wrote last is on disk before the turn resumes from it
    assert events.index(DeskBusy(False)) < next(i for i, e in enumerate(events) if not isinstance(e, DeskBusy))
    await runner.close_all()


async def test_a_cli_a_killed_bot_left_is_waited_for_without_a_word_about_the_desk(tmp_path: Path) -> None:
    watch = FakeDesk()
    watch.entrypoint = "tg-claude-code"
    runner = ClaudeRunner(base_options=dict, client=FakeCLI, desk=watch)  # type: ignore[arg-type]
    session = ClaudeSession(record=SessionRecord(name="a", working_dir="/tmp", session_id="sid-x"), store=SessionStore(tmp_path))
    events: list[Any] = []
    watch.busy_polls = 3
    outcome = await runner.run(session, Turn(key=ChatKey(1), prompt="hi"), Prompt("hi"), events.append)
    assert outcome.text == "echo: hi" and watch.busy_polls == 0 and watch.settles == 1
    assert not [e for e in events if isinstance(e, DeskBusy)]
    await runner.close_all()


async def test_a_turn_stopped_while_it_waits_for_the_desk_asks_nothing(tmp_path: Path) -> None:
    watch = FakeDesk()
    runner = ClaudeRunner(base_options=dict, client=FakeCLI, desk=watch)  # type: ignore[arg-type]
    session = ClaudeSession(record=SessionRecord(name="a", working_dir="/tmp", session_id="sid-x"), store=SessionStore(tmp_path))
    watch.busy_polls = 10**9  # the desk never ends
    running = asyncio.create_task(runner.run(session, Turn(key=ChatKey(1), prompt="hi"), Prompt("hi"), lambda e: None))
    while watch.busy_polls == 10**9:
        await asyncio.sleep(0.01)
    assert await runner.interrupt(session) is True
    outcome = await asyncio.wait_for(running, 5)
    assert outcome.finished and not outcome.text and all(not cli.prompt for cli in FakeCLI.instances)
    await runner.close_all()
