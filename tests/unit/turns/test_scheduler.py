"""TurnScheduler with a scripted runner and a recording chat view: queueing, cancel, run now, stop, the limit, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.claude.events import TextDelta, ToolStarted, TurnOutcome
from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef, SessionRecord
from bot.sessions.session import ClaudeSession, Turn
from bot.sessions.store import SessionStore
from bot.turns.live import Activity
from bot.turns.scheduler import TurnScheduler
from tests.fakes import FakeTurnsView, Script, ScriptedRunner

CHAT = ChatKey(1)


async def prompt_of(session: ClaudeSession, turn: Turn) -> str:
    return turn.prompt


async def until(condition: Callable[[], bool]) -> None:
    """Let the scheduler's tasks run until `condition` holds (they never wait on a clock here)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path, debounce=60)


def session_named(store: SessionStore, name: str = "s") -> ClaudeSession:
    return ClaudeSession(record=SessionRecord(name=name, working_dir="/tmp"), store=store)


@pytest.fixture
def runner() -> ScriptedRunner:
    return ScriptedRunner()


@pytest.fixture
def view() -> FakeTurnsView:
    return FakeTurnsView()


def scheduler_for(runner: ScriptedRunner, view: FakeTurnsView, limit: int = 4) -> TurnScheduler:
    return TurnScheduler(runner, view, max_concurrent=limit, build_prompt=prompt_of)


async def submit(scheduler: TurnScheduler, session: ClaudeSession, prompt: str) -> Turn:
    turn = Turn(key=CHAT, prompt=prompt, reply_to=7)
    await scheduler.submit(session, turn)
    return turn


async def test_turns_of_a_session_run_one_at_a_time_in_order(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    gate = runner.gated("a")
    await submit(scheduler, session, "a")
    await until(lambda: runner.started == ["a"])
    await submit(scheduler, session, "b")
    await submit(scheduler, session, "c")
    assert ("queued", "b", 1) in view.shown and ("queued", "c", 2) in view.shown
    assert scheduler.is_running(session) and scheduler.activity(session).queued == 2
    gate.set()
    await until(lambda: not scheduler.is_busy(session))
    assert runner.started == ["a", "b", "c"]
    assert [view.replies[p].ending for p in "bc"] == [("finish", "echo: b"), ("finish", "echo: c")]
    assert ("dropped", "b") in view.shown and ("dropped", "c") in view.shown  # the queue notices go when they run


async def test_a_queued_turn_can_be_cancelled_but_not_a_running_one(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    gate = runner.gated("a")
    a = await submit(scheduler, session, "a")
    b = await submit(scheduler, session, "b")
    await until(lambda: runner.started == ["a"])
    assert await scheduler.cancel(session, b) and b.cancelled
    assert not await scheduler.cancel(session, b)
    assert not await scheduler.cancel(session, a)
    assert ("cancelled", "b") in view.shown and scheduler.find_turn(b.id) is None
    gate.set()
    await until(lambda: not scheduler.is_busy(session))
    assert runner.started == ["a"]


async def test_run_now_stops_the_running_turn_and_jumps_the_queue(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    runner.gated("a", TextDelta("half an ans"), text="half an ans")
    await submit(scheduler, session, "a")
    await submit(scheduler, session, "b")
    c = await submit(scheduler, session, "c")
    await until(lambda: runner.started == ["a"])
    assert await scheduler.run_now(session, c)
    await until(lambda: not scheduler.is_busy(session))
    assert runner.started == ["a", "c", "b"] and runner.interrupted == ["a"]
    assert view.replies["a"].ending == ("stopped", "half an ans", False)
    assert view.replies["c"].ending == ("finish", "echo: c")  # the stop is not carried over to the next turn


async def test_stop_interrupts_only_a_running_turn(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    assert not await scheduler.stop(session)
    runner.gated("a", ToolStarted("Bash", {"command": "sleep 9"}))
    await submit(scheduler, session, "a")
    await until(lambda: runner.started == ["a"])
    assert scheduler.activity(session).current_tool == "Bash: sleep 9"  # the tool's words, not how the chat shows them
    assert view.replies["a"].tools == ["Bash: sleep 9"]
    assert await scheduler.stop(session)
    await until(lambda: not scheduler.is_busy(session))
    assert view.replies["a"].ending == ("stopped", "", False)
    assert scheduler.activity(session) == Activity() and scheduler.current_turn(session) is None


async def test_the_global_limit_holds_turns_of_other_sessions_back(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view, limit=1)
    one, two = session_named(store, "one"), session_named(store, "two")
    gate = runner.gated("a")
    await submit(scheduler, one, "a")
    await until(lambda: runner.started == ["a"])
    await submit(scheduler, two, "b")
    await until(lambda: ("waiting", "b", 1, 1) in view.shown)
    assert runner.started == ["a"] and scheduler.running == 1
    gate.set()
    await until(lambda: "b" in view.replies and view.replies["b"].ending is not None)
    assert runner.started == ["a", "b"] and runner.peak == 1
    assert ("dropped", "b") in view.shown  # the waiting notice goes when it runs


async def test_a_failing_turn_is_one_sentence_and_the_next_one_runs(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    runner.scripts["crash"] = Script(raises=RuntimeError("bug"))
    runner.scripts["api"] = Script(outcome=TurnOutcome(text="partial", error="Claude's API is overloaded right now."))
    for prompt in ("crash", "api", "fine"):
        await submit(scheduler, session, prompt)
    await until(lambda: not scheduler.is_busy(session))
    assert ("failed", "crash") in view.shown
    assert view.replies["api"].ending == ("fail", "Claude's API is overloaded right now.", "partial")
    assert view.replies["fine"].ending == ("finish", "echo: fine")


async def test_a_finished_turn_is_recorded_once_with_its_usage(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    runner.scripts["a"] = Script(
        outcome=TurnOutcome(
            text="done", session_id="sid-1", finished=True, input_tokens=30, output_tokens=5, cumulative_cost=0.5, duration_ms=1200, context_window=1000
        )
    )
    await submit(scheduler, session, "a")
    await until(lambda: not scheduler.is_busy(session))
    record = session.record
    assert record.session_id == "sid-1" and record.totals.turns == 1
    assert (record.totals.input_tokens, record.totals.output_tokens, record.totals.cost_usd) == (30, 5, 0.5)
    assert record.last_turn is not None and (record.last_turn.context_tokens, record.last_turn.context_window) == (35, 1000)


async def test_shutdown_tells_queued_turns_and_stops_the_running_one(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    runner.gated("a", text="so far")
    await submit(scheduler, session, "a")
    await submit(scheduler, session, "b")
    await until(lambda: runner.started == ["a"])
    await scheduler.shutdown(grace=1)
    assert ("not run", "b") in view.shown and runner.started == ["a"]
    assert view.replies["a"].ending == ("stopped", "so far", True)


class Watcher:
    """A ChangeWatcher whose turn `changing` changed a file; it sees the snapshot taken before the turn."""

    def __init__(self, runner: ScriptedRunner) -> None:
        self.runner = runner
        self.compared: list[str] = []

    async def before(self, session: ClaudeSession) -> str:
        return f"before turn {len(self.runner.started) + 1}"

    async def after(self, session: ClaudeSession, before: str) -> ChangeRef | None:
        self.compared.append(before)
        return ChangeRef(repo="/r", base="b", head="h", files=1, added=2) if self.runner.started[-1] == "changing" else None


async def test_what_a_turn_changed_goes_to_its_reply_and_only_to_its_own(store, runner, view) -> None:
    watcher = Watcher(runner)
    scheduler = TurnScheduler(runner, view, max_concurrent=4, build_prompt=prompt_of, changes=watcher)
    session = session_named(store)
    for prompt in ("changing", "reading"):
        await submit(scheduler, session, prompt)
    await until(lambda: not scheduler.is_busy(session))
    assert watcher.compared == ["before turn 1", "before turn 2"]
    assert view.replies["changing"].changed == ChangeRef(repo="/r", base="b", head="h", files=1, added=2)
    assert view.replies["changing"].ending == ("finish", "echo: changing")
    assert view.replies["reading"].changed is None


async def test_claude_codes_commands_from_the_outcome_are_kept_with_their_directory(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    runner.scripts["a"] = Script(outcome=TurnOutcome(text="ok", finished=True, slash_commands=["compact", "greet"], skills=["tidy"]))
    await submit(scheduler, session, "a")
    await until(lambda: not scheduler.is_busy(session))
    record = session.record
    assert (record.claude_commands, record.claude_skills, record.claude_commands_dir) == (["compact", "greet"], ["tidy"], "/tmp")


async def test_a_full_queue_refuses_the_next_message_and_who_wrote_is_recorded(store, runner, view) -> None:
    scheduler = TurnScheduler(runner, view, max_concurrent=4, build_prompt=prompt_of, max_queued=2)
    session = session_named(store)
    gate = runner.gated("a")
    await scheduler.submit(session, Turn(key=CHAT, prompt="a", user_id=5))
    await until(lambda: runner.started == ["a"])
    for prompt, user in (("b", 6), ("c", 5), ("d", 7)):
        await scheduler.submit(session, Turn(key=CHAT, prompt=prompt, user_id=user))
    assert ("queue full", "d", 2) in view.shown and scheduler.activity(session).queued == 2
    assert session.record.users == [5, 6]  # the refused writer is not recorded
    gate.set()
    await until(lambda: not scheduler.is_busy(session))
    assert runner.started == ["a", "b", "c"]
