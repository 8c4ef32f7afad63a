"""ClaudeRunner's warm clients: the cap on live CLIs, LRU and idle closing, dead CLIs.

The SDK client is replaced by a fake that counts "processes" from connect() until
disconnect() returns, so the cap is checked the way the benchmark sees it (processes
alive), not by the runner's own bookkeeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from claude_agent_sdk import AssistantMessage, CLIConnectionError, ProcessError, ResultMessage, SystemMessage, TextBlock

from bot.claude import runner as claude
from bot.claude.framing import Prompt
from bot.claude.runner import ClaudeRunner
from bot.sessions.keys import ChatKey
from bot.sessions.records import SessionRecord
from bot.sessions.session import ClaudeSession, Turn
from bot.sessions.store import SessionStore


class FakeCLI:
    """Stands in for ClaudeSDKClient; class attributes watch every instance."""

    alive = 0
    peak = 0
    connects: list[str | None] = []  # resume= of every connect, in order
    instances: list[FakeCLI] = []

    def __init__(self, options: Any) -> None:
        self.options = options
        self.dead = False  # the process is gone: writes fail
        self.die_in_turn = False  # the process dies while answering
        self.prompt = ""
        FakeCLI.instances.append(self)

    async def connect(self) -> None:
        FakeCLI.alive += 1
        FakeCLI.peak = max(FakeCLI.peak, FakeCLI.alive)
        FakeCLI.connects.append(self.options.resume)
        await asyncio.sleep(0.02)  # spawning takes a while: other turns run meanwhile

    async def query(self, prompt: str) -> None:
        if self.dead:
            raise CLIConnectionError("Cannot write to terminated process (exit code: -9)")
        self.prompt = prompt

    async def receive_response(self) -> AsyncIterator[Any]:
        await asyncio.sleep(0.01)
        if self.die_in_turn:
            self.dead = True
            raise ProcessError("Command failed with exit code -9", exit_code=-9)
        session_id = self.options.resume or f"sid-{id(self)}"
        yield SystemMessage(subtype="init", data={"session_id": session_id})
        yield AssistantMessage(content=[TextBlock(text=f"echo: {self.prompt}")], model="stand-in")
        yield ResultMessage(
            subtype="success", duration_ms=1, duration_api_ms=1, is_error=False, num_turns=1, session_id=session_id
        )

    async def disconnect(self) -> None:
        await asyncio.sleep(0.02)  # the CLI takes a moment to exit after stdin closes
        FakeCLI.alive -= 1


@pytest.fixture(autouse=True)
def fake_cli() -> None:
    FakeCLI.alive = FakeCLI.peak = 0
    FakeCLI.connects = []
    FakeCLI.instances = []


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path)


def make_session(store: SessionStore, name: str) -> ClaudeSession:
    return ClaudeSession(record=SessionRecord(name=name, working_dir="/tmp"), store=store)


async def turn(runner: ClaudeRunner, session: ClaudeSession, text: str) -> claude.TurnOutcome:
    outcome = await runner.run(session, Turn(key=ChatKey(1), prompt=text), Prompt(text), lambda event: None)
    if outcome.session_id:
        session.record.session_id = outcome.session_id
    return outcome


def runner(max_live: int, idle_seconds: float = 600.0) -> ClaudeRunner:
    return ClaudeRunner(base_options=dict, max_live=max_live, idle_seconds=idle_seconds, client=FakeCLI)


async def test_live_processes_never_exceed_the_cap_under_concurrent_turns(store: SessionStore) -> None:
    cap = runner(max_live=2)
    sessions = [make_session(store, f"s{i}") for i in range(6)]
    for _ in range(3):
        outcomes = await asyncio.gather(*(turn(cap, s, f"hi {s.name}") for s in sessions))
        assert all(o.error is None and o.text == f"echo: hi {s.name}" for o, s in zip(outcomes, sessions, strict=True))
    assert FakeCLI.peak == 2
    await cap.close_all()
    assert FakeCLI.alive == 0


async def test_least_recently_used_client_is_closed_first(store: SessionStore) -> None:
    cap = runner(max_live=2)
    a, b, c = (make_session(store, name) for name in "abc")
    await turn(cap, a, "1")
    await turn(cap, b, "2")
    await turn(cap, a, "3")  # b is now the least recently used
    await turn(cap, c, "4")
    assert len(FakeCLI.instances) == 3
    await turn(cap, a, "5")  # still warm: no new process
    assert len(FakeCLI.instances) == 3
    await turn(cap, b, "6")  # was closed: reconnects, resuming its conversation
    assert FakeCLI.connects[-1] == b.session_id and len(FakeCLI.instances) == 4
    await cap.close_all()


async def test_idle_clients_are_closed_and_resume_transparently(store: SessionStore) -> None:
    cap = runner(max_live=4, idle_seconds=0.1)
    cap.start()
    a = make_session(store, "a")
    await turn(cap, a, "1")
    assert FakeCLI.alive == 1
    deadline = asyncio.get_running_loop().time() + 5
    while FakeCLI.alive and asyncio.get_running_loop().time() < deadline:  # until the idle close
        await asyncio.sleep(0.01)
    assert FakeCLI.alive == 0 and cap.live_count == 0
    outcome = await turn(cap, a, "2")
    assert outcome.text == "echo: 2" and FakeCLI.connects == [None, a.session_id]
    await cap.close_all()


async def test_a_cli_that_died_while_idle_is_replaced_without_an_error(store: SessionStore) -> None:
    cap = runner(max_live=2)
    a = make_session(store, "a")
    await turn(cap, a, "1")
    FakeCLI.instances[-1].dead = True  # killed, or out of memory, between turns
    outcome = await turn(cap, a, "2")
    assert outcome.error is None and outcome.text == "echo: 2"
    assert FakeCLI.connects == [None, a.session_id]
    await cap.close_all()
    assert FakeCLI.alive == 0


async def test_a_cli_that_dies_mid_turn_is_one_sentence_and_the_next_turn_works(store: SessionStore) -> None:
    cap = runner(max_live=2)
    a = make_session(store, "a")
    await turn(cap, a, "1")
    FakeCLI.instances[-1].die_in_turn = True
    failed = await turn(cap, a, "2")
    assert failed.error is not None and failed.error.count(".") == 1 and "again" in failed.error
    outcome = await turn(cap, a, "3")
    assert outcome.error is None and outcome.text == "echo: 3"
    assert FakeCLI.connects == [None, a.session_id]
    await cap.close_all()
    assert FakeCLI.alive == 0


async def test_cli_starts_run_at_most_max_starting_at_once(store: SessionStore) -> None:
    cap = ClaudeRunner(base_options=dict, max_live=8, max_starting=2, client=FakeCLI)
    starting = peak = 0
    connect = FakeCLI.connect

    async def counted(self: FakeCLI) -> None:
        nonlocal starting, peak
        starting += 1
        peak = max(peak, starting)
        try:
            await connect(self)
        finally:
            starting -= 1

    FakeCLI.connect = counted  # type: ignore[method-assign]
    try:
        sessions = [make_session(store, f"s{i}") for i in range(6)]
        outcomes = await asyncio.gather(*(turn(cap, s, "hi") for s in sessions))
    finally:
        FakeCLI.connect = connect  # type: ignore[method-assign]
    assert all(o.error is None for o in outcomes) and peak == 2 and FakeCLI.peak == 6
    await cap.close_all()


async def test_the_gate_is_entered_once_the_cli_is_up_and_a_stop_there_asks_nothing(store: SessionStore) -> None:
    cap = runner(max_live=2)
    a = make_session(store, "a")
    slot = asyncio.Lock()
    entered: list[int] = []

    def gate() -> Any:
        entered.append(FakeCLI.alive)
        return slot

    await slot.acquire()  # another turn holds the only slot
    running = asyncio.create_task(cap.run(a, Turn(key=ChatKey(1), prompt="x"), Prompt("x"), lambda event: None, gate))
    while not entered:
        await asyncio.sleep(0.005)
    assert entered == [1]  # its CLI started while no slot was held
    assert await cap.interrupt(a)
    slot.release()
    outcome = await running
    assert outcome.finished and outcome.text == "" and FakeCLI.instances[-1].prompt == ""
    assert (await turn(cap, a, "next")).text == "echo: next"  # the client stays good for the next turn
    await cap.close_all()


async def test_claude_codes_setting_sources_are_chosen_explicitly(store: SessionStore) -> None:
    session = make_session(store, "s")
    assert (await turn(runner(1), session, "hi")).error is None
    assert FakeCLI.instances[-1].options.setting_sources == ["user", "project", "local"]
