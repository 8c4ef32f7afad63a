"""TurnScheduler with a scripted runner and a recording chat view: queueing, cancel, run now, stop, the limit, errors."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.claude.events import DeskBusy, TextDelta, ToolStarted, TurnOutcome
from bot.claude.framing import Prompt
from bot.sessions.inbox import Accepted, Inbox
from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef, RecordedAnswer, SessionRecord
from bot.sessions.session import ClaudeSession, Turn
from bot.sessions.store import SessionStore
from bot.turns.live import Activity
from bot.turns.scheduler import RESUMED_NOTE, TurnScheduler
from tests.fakes import FakeTurnsView, Script, ScriptedRunner

CHAT = ChatKey(1)
SPEAKERS = itertools.count(1)


async def prompt_of(session: ClaudeSession, turn: Turn) -> Prompt:
    return Prompt(turn.prompt, tuple(turn.images))


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """Let the scheduler's tasks run until `condition` holds (only the inbox's fsyncs take real time)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.001)


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


async def submit(
    scheduler: TurnScheduler, session: ClaudeSession, prompt: str, *, user_id: int | None = None, key: ChatKey = CHAT
) -> Turn:
    """A turn of its own speaker unless ``user_id`` is given (one person's waiting turns merge: see the batching tests)."""
    turn = Turn(key=key, prompt=prompt, reply_to=len(prompt), user_id=next(SPEAKERS) if user_id is None else user_id)
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


async def test_a_turn_waiting_for_the_desk_says_so_in_its_reply(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    gate = runner.gated("a", DeskBusy(True), DeskBusy(False), TextDelta("hi"))
    await submit(scheduler, session, "a")
    await until(lambda: ("desk", "a", False) in view.shown)
    assert [entry for entry in view.shown if entry[0] == "desk"] == [("desk", "a", True), ("desk", "a", False)]
    gate.set()
    await until(lambda: not scheduler.is_busy(session))


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
    assert view.replies["a"].ending == ("stopped", "half an ans")
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
    assert view.replies["a"].ending == ("stopped", "")
    assert scheduler.activity(session) == Activity() and scheduler.current_turn(session) is None


async def b_waits_for_the_only_slot(store, runner, view) -> tuple[TurnScheduler, asyncio.Event, ClaudeSession]:
    """One slot, held by "a" (of session one) until the returned gate opens; "b" (of session two) waits for it."""
    scheduler = scheduler_for(runner, view, limit=1)
    one, two = session_named(store, "one"), session_named(store, "two")
    gate = runner.gated("a")
    await submit(scheduler, one, "a")
    await until(lambda: runner.started == ["a"])
    await submit(scheduler, two, "b")
    await until(lambda: ("waiting", "b", 1, 1) in view.shown)  # it reached the runner and waits for the slot
    return scheduler, gate, two


async def test_the_global_limit_holds_turns_of_other_sessions_back(store, runner, view) -> None:
    scheduler, gate, _ = await b_waits_for_the_only_slot(store, runner, view)
    assert runner.started == ["a"] and scheduler.running == 1
    gate.set()
    await until(lambda: "b" in view.replies and view.replies["b"].ending is not None)
    assert runner.started == ["a", "b"] and runner.peak == 1
    assert ("waiting", "b", None, 1) in view.shown  # its progress stops saying it waits once it runs


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


# -- the inbox: accepted messages are answered exactly once, whatever happens to the process --


def scheduler_with_inbox(runner: ScriptedRunner, view: FakeTurnsView, inbox: Inbox, limit: int = 4) -> TurnScheduler:
    return TurnScheduler(runner, view, max_concurrent=limit, build_prompt=prompt_of, inbox=inbox)


async def accepted_turn(inbox: Inbox, prompt: str, message_id: int) -> Turn:
    update = {"update_id": message_id, "message": {"message_id": message_id, "text": prompt}}
    accepted = await inbox.accept(Accepted(update_id=message_id, update=update, key=CHAT, message_id=message_id))
    # Each its own speaker, so they do not merge into one turn (bot/turns/batch.py).
    return Turn(key=CHAT, prompt=prompt, reply_to=message_id, user_id=message_id, inbox=[accepted], queued_message_id=accepted.notice_id)


@pytest.fixture
def inbox(tmp_path: Path) -> Inbox:
    inbox = Inbox(tmp_path)
    inbox.load()
    return inbox


async def test_an_answered_message_leaves_the_inbox_and_a_cancelled_one_too(store, runner, view, inbox) -> None:
    scheduler = scheduler_with_inbox(runner, view, inbox)
    session = session_named(store)
    gate = runner.gated("a", text="A")
    a, b = await accepted_turn(inbox, "a", 1), await accepted_turn(inbox, "b", 2)
    await scheduler.submit(session, a)
    await scheduler.submit(session, b)
    assert a.id == 1 and b.id == 2  # a turn's id is its message's place in the inbox: it outlives a restart
    await until(lambda: runner.started == ["a"])
    assert [e.notice_id for e in inbox.pending()] == [None, 101]  # b's queue notice is on record
    await scheduler.cancel(session, b)
    gate.set()
    await until(lambda: not scheduler.is_busy(session))
    assert inbox.pending() == [] and Inbox(inbox.path.parent).load() == []


async def test_shutdown_lets_a_turn_finish_within_the_grace_and_keeps_the_queue(store, runner, view, inbox) -> None:
    scheduler = scheduler_with_inbox(runner, view, inbox)
    session = session_named(store)
    gate = runner.gated("a", text="done in time")
    await scheduler.submit(session, await accepted_turn(inbox, "a", 1))
    await scheduler.submit(session, await accepted_turn(inbox, "b", 2))
    await until(lambda: runner.started == ["a"])
    shutdown = asyncio.create_task(scheduler.shutdown(grace=5))
    await until(lambda: ("after restart", "b") in view.shown)
    gate.set()
    await shutdown
    assert view.replies["a"].ending == ("finish", "done in time") and runner.started == ["a"]
    assert [e.message_id for e in Inbox(inbox.path.parent).load()] == [2]  # b runs after the start
    late = await accepted_turn(inbox, "c", 3)
    await scheduler.submit(session, late)  # accepted while stopping: it waits in the inbox too
    assert runner.started == ["a"] and late.inbox[0] in inbox.pending()


async def test_a_turn_cut_short_by_shutdown_is_carried_on_after_the_start(store, runner, view, inbox) -> None:
    scheduler = scheduler_with_inbox(runner, view, inbox)
    session = session_named(store)
    runner.gated("a", text="so far")
    await scheduler.submit(session, await accepted_turn(inbox, "a", 1))
    await until(lambda: runner.started == ["a"])
    await scheduler.shutdown(grace=0)
    assert runner.interrupted == ["a"] and view.replies["a"].ending == ("interrupted",)

    # The next start: the same message, its progress message and one start on record.
    after = Inbox(inbox.path.parent)
    (entry,) = after.load()
    assert (entry.runs, entry.progress_id, entry.answer) == (1, 101, None)
    view2, runner2 = FakeTurnsView(), ScriptedRunner()
    scheduler2 = scheduler_with_inbox(runner2, view2, after)
    turn = Turn(key=CHAT, prompt="a", reply_to=1, inbox=[entry])
    await scheduler2.submit(session, turn)
    await until(lambda: not scheduler2.is_busy(session))
    (prompt,) = runner2.started
    assert prompt.startswith(RESUMED_NOTE) and prompt.endswith("a")  # Claude is told, and what was asked
    reply = view2.replies["a"]
    assert reply.resumed_in == 101 and reply.ending == ("finish", f"echo: {prompt}")
    assert after.pending() == []


async def test_a_resumed_turn_with_images_is_told_it_was_interrupted_and_keeps_its_images(store, runner, view, inbox) -> None:
    scheduler = scheduler_with_inbox(runner, view, inbox)
    turn = await accepted_turn(inbox, "look", 1)
    turn.images = [("image/png", b"png")]
    await inbox.started(turn.inbox[0])  # it ran once before the bot died
    session = session_named(store)
    await scheduler.submit(session, turn)
    await until(lambda: not scheduler.is_busy(session))
    (prompt,) = runner.started
    assert prompt == RESUMED_NOTE + "look" and runner.images[prompt] == [("image/png", b"png")]


async def test_a_turn_cut_short_twice_is_not_tried_a_third_time(store, runner, view, inbox) -> None:
    scheduler = scheduler_with_inbox(runner, view, inbox)
    turn = await accepted_turn(inbox, "a", 1)
    await inbox.started(turn.inbox[0])
    await inbox.started(turn.inbox[0])
    await scheduler.submit(session_named(store), turn)
    await until(lambda: ("gave up", "a", None) in view.shown)
    assert runner.started == [] and inbox.pending() == []


async def test_an_answer_recorded_but_not_shown_is_shown_without_asking_claude_again(store, runner, view, inbox) -> None:
    scheduler = scheduler_with_inbox(runner, view, inbox)
    turn = await accepted_turn(inbox, "a", 1)
    await inbox.started(turn.inbox[0])
    await inbox.note(turn.inbox[0], "answer", RecordedAnswer(kind="finish", text="the answer"))
    session = session_named(store)
    await scheduler.submit(session, turn)
    await until(lambda: not scheduler.is_busy(session))
    assert runner.started == [] and view.replies["a"].ending == ("finish", "the answer")
    assert inbox.pending() == []


async def test_stop_reaches_a_turn_from_the_moment_it_is_submitted(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view, limit=1)
    one, two = session_named(store, "one"), session_named(store, "two")
    gate = runner.gated("a")
    await submit(scheduler, one, "a")
    await submit(scheduler, two, "b")  # starting: it waits for the one slot
    assert scheduler.is_running(two)
    assert await scheduler.stop(two)  # before its worker even ran
    await until(lambda: runner.started == ["a"])
    gate.set()
    await until(lambda: "b" in view.replies and view.replies["b"].ending is not None)
    assert runner.started == ["a"] and view.replies["b"].ending == ("stopped", "")


async def test_a_turn_stopped_while_it_waits_for_a_slot_is_never_asked(store, runner, view) -> None:
    scheduler, gate, two = await b_waits_for_the_only_slot(store, runner, view)
    assert await scheduler.stop(two)
    gate.set()
    await until(lambda: "b" in view.replies and view.replies["b"].ending is not None)
    assert runner.started == ["a"] and view.replies["b"].ending == ("stopped", "")


class Watcher:
    """A ChangeWatcher whose turn `changing` changed a file; it sees the snapshot taken before the turn."""

    def __init__(self, runner: ScriptedRunner) -> None:
        self.runner = runner
        self.compared: list[str] = []

    async def before(self, session: ClaudeSession) -> str:
        return f"before turn {len(self.runner.started) + 1}"

    async def after(self, session: ClaudeSession, before: str, prompt: str = "") -> ChangeRef | None:
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


async def test_waiting_and_refresh_reach_only_the_running_turns_reply(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session, other = session_named(store), session_named(store, "other")
    gate = runner.gated("a")
    await submit(scheduler, session, "a")
    await until(lambda: runner.started == ["a"])
    scheduler.waiting_for_answer(session, "Bash: ls")
    scheduler.refresh_progress(session)
    scheduler.waiting_for_answer(other, "Bash: ls")  # nothing runs there: nothing to tell
    scheduler.refresh_progress(other)
    scheduler.waiting_for_answer(session, None)
    reply = view.replies["a"]
    assert reply.waiting == ["Bash: ls", None] and reply.refreshed == 1
    gate.set()
    await until(lambda: not scheduler.is_busy(session))
    scheduler.waiting_for_answer(session, "Bash: ls")  # after the turn: its reply is done, and not told
    scheduler.refresh_progress(session)
    assert reply.waiting == ["Bash: ls", None] and reply.refreshed == 1


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


async def test_one_persons_waiting_turns_go_to_claude_together_and_keep_their_messages(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    gate = runner.gated("running")
    await submit(scheduler, session, "running", user_id=1)
    await until(lambda: runner.started == ["running"])
    fix = await submit(scheduler, session, "fix the login bug", user_id=1)
    where = await submit(scheduler, session, "it is in auth.py", user_id=1)
    other = await submit(scheduler, session, "someone else", user_id=2)
    test = await submit(scheduler, session, "and add a test", user_id=2)
    gate.set()
    await until(lambda: not scheduler.is_busy(session))
    assert runner.started == ["running", "fix the login bug\n\nit is in auth.py", "someone else\n\nand add a test"]
    assert ("merged", "it is in auth.py") in view.shown and ("merged", "and add a test") in view.shown
    assert ("merged", "fix the login bug") not in view.shown and ("merged", "someone else") not in view.shown
    batch = view.replies["fix the login bug\n\nit is in auth.py"].turn
    assert batch.merged == [fix, where] and batch.id == fix.id and batch.reply_to == fix.reply_to
    assert view.replies["someone else\n\nand add a test"].turn.merged == [other, test]
    assert all(scheduler.find_turn(t.id) is None for t in (fix, where, other, test))


async def test_an_edit_changes_a_waiting_turn_only(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    gate = runner.gated("running")
    running = await submit(scheduler, session, "running")
    await until(lambda: runner.started == ["running"])
    waiting = await submit(scheduler, session, "typo")
    assert not scheduler.edit_queued(session, CHAT, running.reply_to or 0, "changed")  # Claude already has it
    assert not scheduler.edit_queued(session, ChatKey(2), waiting.reply_to or 0, "other chat")
    assert scheduler.edit_queued(session, CHAT, waiting.reply_to or 0, "fixed")
    assert ("edited", "fixed") in view.shown
    gate.set()
    await until(lambda: not scheduler.is_busy(session))
    assert runner.started == ["running", "fixed"]


async def test_a_moved_session_keeps_its_live_turns_and_they_answer_in_the_new_chat(store, runner, view) -> None:
    scheduler = scheduler_for(runner, view)
    old, new = ChatKey(-5), ChatKey(-1005)
    session = session_named(store, str(old))
    gate = runner.gated("running")
    running = await submit(scheduler, session, "running", key=old)
    await until(lambda: runner.started == ["running"])
    waiting = await submit(scheduler, session, "waiting", key=old)
    session.record.name = str(new)  # SessionManager.move renames it
    scheduler.moved(session, str(old), old, new)
    assert scheduler.is_running(session) and scheduler.activity(session).queued == 1
    assert running.key == new and waiting.key == new
    gate.set()
    await until(lambda: not scheduler.is_busy(session))
    assert runner.started == ["running", "waiting"]


class SlowNotices(FakeTurnsView):
    """Queue notices that reach the chat only when ``out`` is set (a paced group chat)."""

    def __init__(self) -> None:
        super().__init__()
        self.out = asyncio.Event()

    async def queued(self, turn: Turn, position: int) -> int | None:
        await self.out.wait()
        return await super().queued(turn, position)


async def test_a_notice_that_arrives_after_its_turn_left_the_queue_says_what_happened(store, runner) -> None:
    view = SlowNotices()
    scheduler = scheduler_for(runner, view)
    session = session_named(store)
    gate = runner.gated("running")
    await submit(scheduler, session, "running", user_id=1)
    await until(lambda: runner.started == ["running"])
    late = [asyncio.create_task(submit(scheduler, session, p, user_id=1)) for p in ("first", "second")]
    await until(lambda: scheduler.activity(session).queued == 2)
    gate.set()
    await until(lambda: runner.started == ["running", "first\n\nsecond"] and not scheduler.is_busy(session))
    view.out.set()
    await asyncio.gather(*late)
    assert ("merged", "second") in view.shown  # not left saying "queued"
    assert ("dropped", "first") in view.shown  # its turn has run: the reply answers it


class SettlesOnCue(Inbox):
    """An inbox whose settling waits for a cue: the moment between an answer shown and its turn's end."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.cue = asyncio.Event()

    async def settle(self, accepted: Accepted) -> None:
        await self.cue.wait()
        await super().settle(accepted)


async def answered_then_b(
    store: SessionStore, runner: ScriptedRunner, view: FakeTurnsView, tmp_path: Path
) -> tuple[TurnScheduler, ClaudeSession, SettlesOnCue]:
    """"a" is answered but not yet settled, and "b" comes in that moment (the user read "a" and wrote at once)."""
    inbox = SettlesOnCue(tmp_path)
    inbox.load()
    scheduler = scheduler_with_inbox(runner, view, inbox)
    session = session_named(store)
    await scheduler.submit(session, await accepted_turn(inbox, "a", 1))
    await until(lambda: "a" in view.replies and view.replies["a"].ending is not None)
    await scheduler.submit(session, await accepted_turn(inbox, "b", 2))
    return scheduler, session, inbox


async def test_a_message_sent_once_the_answer_is_shown_is_not_told_it_is_queued(store, runner, view, tmp_path) -> None:
    _, _, inbox = await answered_then_b(store, runner, view, tmp_path)
    inbox.cue.set()
    await until(lambda: "b" in view.replies and view.replies["b"].ending is not None)
    assert not [shown for shown in view.shown if shown[0] == "queued"]
    await until(lambda: inbox.pending() == [])


async def test_a_message_without_a_queue_notice_is_still_answered_when_cancelled(store, runner, view, tmp_path) -> None:
    scheduler, session, inbox = await answered_then_b(store, runner, view, tmp_path)  # "b" starts next: no notice
    clearing = asyncio.create_task(scheduler.stop_and_clear(session))  # /new before it started
    await until(lambda: ("cancelled, answered", "b") in view.shown)  # a reply of its own: it has no notice to edit
    inbox.cue.set()
    assert await asyncio.wait_for(clearing, 2) == 1
    await until(lambda: inbox.pending() == [] and not scheduler.is_busy(session))
    assert "b" not in view.replies


# -- after a restart: what ran together goes on together; a turn Claude Code finished is not asked again --


def same_speaker(turn: Turn) -> Turn:
    turn.user_id = 7
    return turn


async def test_messages_that_ran_together_go_on_together_and_the_queued_ones_after_them(store, runner, view, inbox) -> None:
    scheduler = scheduler_with_inbox(runner, view, inbox)
    session = session_named(store)
    first = [same_speaker(await accepted_turn(inbox, p, n)) for n, p in ((1, "a"), (2, "b"))]
    queued = [same_speaker(await accepted_turn(inbox, p, n)) for n, p in ((3, "c"), (4, "d"))]
    for turn in first:  # a and b went to Claude as one turn before the bot died; c and d never ran
        await inbox.started(turn.inbox[0], "42:1")
    with scheduler.holding():  # the start-up queues them all before any starts
        for turn in [*first, *queued]:
            await scheduler.submit(session, turn)
        await asyncio.sleep(0.01)
        assert runner.started == []
    await until(lambda: len(runner.started) == 2)
    assert runner.started == [RESUMED_NOTE + "a\n\nb", "c\n\nd"]  # never "a b c d", never a alone and b again


class Finished:
    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def finished(self, session: ClaudeSession, prompt: str) -> str | None:
        self.asked.append(prompt)
        return self.answers.get(prompt)


async def test_a_turn_claude_code_finished_before_the_kill_is_completed_from_its_transcript(store, runner, view, inbox) -> None:
    transcripts = Finished({"a": "the answer Claude gave"})
    scheduler = TurnScheduler(runner, view, max_concurrent=4, build_prompt=prompt_of, inbox=inbox, transcripts=transcripts)
    session = session_named(store)
    session.record.session_id = "sid"
    done, cut = await accepted_turn(inbox, "a", 1), await accepted_turn(inbox, "b", 2)
    for turn in (done, cut):
        await inbox.started(turn.inbox[0], turn.inbox[0].id)
    fresh = await accepted_turn(inbox, "c", 3)
    for turn in (done, cut, fresh):
        await scheduler.submit(session, turn)
    await until(lambda: not scheduler.is_busy(session))
    assert view.replies["a"].ending == ("finish", "the answer Claude gave")  # shown once, Claude not asked again
    assert runner.started == [RESUMED_NOTE + "b", "c"]  # cut short: it runs again; never ran: no transcript look-up
    assert transcripts.asked == ["a", "b"] and inbox.pending() == []
