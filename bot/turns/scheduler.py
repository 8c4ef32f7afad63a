"""Turn scheduling: one turn at a time per session, at most N across the bot, nothing dropped.

Each session has an in-memory queue and a worker task (its `LiveTurns`, owned here). A
message that arrives while its session is busy is queued in order and the chat is told so;
a global semaphore bounds the Claude turns running at once and a chat that has to wait for
it is told that too. The chat is reached only through a `TurnsView`.

Every turn answers messages that are in the inbox (bot.sessions.inbox): the scheduler notes
there when a turn starts and its final text before it is shown, and settles the messages
once they are answered. A turn cut short by a shutdown or a crash stays in the inbox and is
carried on after the next start; one cut short twice is not tried a third time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from bot.chat import LiveReply, TurnsView
from bot.claude.events import DeskBusy, Retrying, TextDelta, ToolStarted, TurnEvent, TurnOutcome
from bot.claude.framing import Prompt
from bot.sessions.inbox import Inbox
from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef, RecordedAnswer
from bot.sessions.session import ClaudeSession, Turn
from bot.turns.batch import take_batch
from bot.util import oplog
from bot.turns.live import Activity, LiveTurns

if TYPE_CHECKING:
    from bot.claude.runner import Gate

log = logging.getLogger(__name__)

OUTCOMES = {"finish": "answered", "stopped": "stopped", "fail": "failed"}

PromptBuilder = Callable[[ClaudeSession, Turn], Awaitable[Prompt]]

MAX_STARTS = 2  # a turn cut short by a restart is carried on once; a second cut means it is the cause
RESUMED_NOTE = (
    "[Note from the bot, not from the user: your previous turn was interrupted because the bot restarted. "
    "Continue it from what your transcript holds. The user had asked:]\n\n"
)


class TurnRunner(Protocol):
    """What the scheduler needs of bot.claude.runner.ClaudeRunner."""

    async def run(
        self, session: ClaudeSession, turn: Turn, prompt: Prompt, report: Callable[[TurnEvent], None], gate: Gate
    ) -> TurnOutcome:
        """``gate``: entered once the turn's CLI is up, held while Claude works on the turn."""

    async def interrupt(self, session: ClaudeSession) -> bool: ...


class ChangeWatcher(Protocol):
    """What a turn changed in its work tree (bot.features.diff.ChangeTracker): a snapshot before, the change after."""

    async def before(self, session: ClaudeSession) -> Any: ...

    async def after(self, session: ClaudeSession, before: Any, prompt: str = "") -> ChangeRef | None: ...


class Transcripts(Protocol):
    """Claude Code's own record of a session (bot/claude/transcripts.py): the answer of a turn it finished."""

    async def finished(self, session: ClaudeSession, prompt: str) -> str | None: ...


class TurnScheduler:
    def __init__(
        self,
        runner: TurnRunner,
        view: TurnsView,
        *,
        max_concurrent: int,
        build_prompt: PromptBuilder,
        inbox: Inbox | None = None,
        changes: ChangeWatcher | None = None,
        transcripts: Transcripts | None = None,
        max_queued: int = 20,
    ) -> None:
        self.runner = runner
        self.view = view
        self.build_prompt = build_prompt
        self.changes = changes
        self.transcripts = transcripts
        self.max_queued = max_queued  # per session
        self.max_concurrent = max_concurrent
        self.inbox = inbox
        self._slots = asyncio.Semaphore(max_concurrent)
        self._running = 0
        self._ids = itertools.count(1 << 40)  # turns not from an inbox message (ids of those are their order)
        self._turns: dict[int, tuple[ClaudeSession, Turn]] = {}
        self._live: dict[str, LiveTurns] = {}
        self._notes: set[asyncio.Task[None]] = set()
        self._shutting_down = False
        self._hurry = asyncio.Event()  # a second stop signal: running turns are cut short now, not after the grace
        self._starts = asyncio.Event()  # cleared while the messages of before a restart are queued again
        self._starts.set()

    @property
    def running(self) -> int:
        return self._running

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """No turn starts inside: turns are queued, and start together once it ends."""
        self._starts.clear()
        try:
            yield
        finally:
            self._starts.set()

    # -- what a session is doing (read-only for everyone else) ----------------------

    def is_running(self, session: ClaudeSession) -> bool:
        live = self._live.get(session.name)
        return live is not None and live.is_running

    def is_busy(self, session: ClaudeSession) -> bool:
        """Running or with turns queued."""
        live = self._live.get(session.name)
        return live is not None and live.busy

    def activity(self, session: ClaudeSession) -> Activity:
        live = self._live.get(session.name)
        return live.activity() if live is not None else Activity()

    def current_turn(self, session: ClaudeSession) -> Turn | None:
        """The turn Claude is working on for this session: whom its requests and files go to."""
        live = self._live.get(session.name)
        return live.turn if live is not None else None

    def _live_for(self, session: ClaudeSession) -> LiveTurns:
        live = self._live.get(session.name)
        if live is None or live.session is not session:
            live = self._live[session.name] = LiveTurns(session)
        return live

    # -- queueing -------------------------------------------------------------------

    async def submit(self, session: ClaudeSession, turn: Turn) -> None:
        """Queue `turn`; tell the chat when it has to wait behind another turn.

        A turn submitted during shutdown is left in the inbox: it runs after the next start.
        """
        for accepted in turn.inbox:
            accepted.claimed = True  # settled by this turn, not by the handler that made it
        if self._shutting_down:
            return
        live = self._live_for(session)
        if len(live.queue) >= self.max_queued:  # a flood is refused, not queued without end
            await self.view.queue_full(turn, self.max_queued)
            await self._settle(turn)  # that sentence is its answer
            return
        turn.id = turn.inbox[0].seq if turn.inbox else next(self._ids)
        self._turns[turn.id] = (session, turn)
        if turn.user_id is not None and turn.user_id not in session.record.users:
            session.record.users.append(turn.user_id)  # who wrote: /sessions in a private chat lists only theirs
        busy, starts_now = live.busy, live.next_starts_now
        live.queue.append(turn)
        session.touch()
        if busy and not starts_now:
            live.announcing.add(turn.id)
            turn.queued_message_id = await self.view.queued(turn, len(live.queue))
            live.announcing.discard(turn.id)
            await self._settle_late_notice(live, turn)  # at once: the notice may have come after its turn left the queue
            await self._note(turn, "notice", turn.queued_message_id)
        elif not busy:
            live.starting(turn)  # /stop reaches it from this moment, before a slot or a CLI is ready
        if live.worker is None or live.worker.done():
            live.worker = asyncio.create_task(self._work(live), name=f"turns-{session.name}")

    async def _settle_late_notice(self, live: LiveTurns, turn: Turn) -> None:
        """A queue notice that arrived after its turn left the queue must not stay "queued"."""
        if turn.id in live.absorbed:
            live.absorbed.discard(turn.id)
            self.view.merged(turn)
        elif turn.cancelled:
            await self.view.cancelled(turn)
        elif not any(waiting is turn for waiting in live.queue):
            self.view.drop_notice(turn)  # it ran (or runs) already: its reply answers it

    def refresh_progress(self, session: ClaudeSession) -> None:
        """/status was asked: the progress message shows the same elapsed time right away."""
        if (reply := self._reply_of(session)) is not None:
            reply.refresh()

    def waiting_for_answer(self, session: ClaudeSession, what: str | None) -> None:
        """A request of the running turn (``what`` it is about) waits for the user, or (None) none does: its progress says so."""
        if (reply := self._reply_of(session)) is not None:
            reply.waiting_for_answer(what)

    def _reply_of(self, session: ClaudeSession) -> LiveReply | None:
        live = self._live.get(session.name)
        return live.reply if live is not None else None

    def find_turn(self, turn_id: int) -> tuple[ClaudeSession, Turn] | None:
        return self._turns.get(turn_id)

    def _queue_of(self, session: ClaudeSession) -> list[Turn]:
        live = self._live.get(session.name)
        return list(live.queue) if live is not None else []

    def edit_queued(self, session: ClaudeSession, key: ChatKey, message_id: int, prompt: str) -> bool:
        """Message ``message_id`` of chat ``key`` was edited: if its turn still waits, Claude gets the new text."""
        live = self._live.get(session.name)
        turn = next((t for t in live.queue if t.key == key and t.reply_to == message_id), None) if live else None
        if turn is None:
            return False
        turn.prompt = prompt
        self.view.edited(turn)
        self._in_background(self._note(turn, "prompt", prompt))  # a restart carries the edited text on
        return True

    def moved(self, session: ClaudeSession, old_name: str, old: ChatKey, new: ChatKey) -> None:
        """The session was renamed (its group got a new id): its live turns follow, and answer in the new chat."""
        live = self._live.pop(old_name, None)
        if live is None:
            return
        self._live[session.name] = live
        for turn in [*live.queue, *([live.turn] if live.turn else [])]:
            for one in [turn, *turn.merged]:
                if one.key == old:
                    one.key = new  # answers of queued turns (and their buttons) belong to the new chat

    async def cancel(self, session: ClaudeSession, turn: Turn) -> bool:
        """Cancel a queued turn; False when it already ran or is running."""
        live = self._live.get(session.name)
        if live is None or turn not in live.queue:
            return False
        live.queue.remove(turn)
        turn.cancelled = True
        self._forget(turn)
        if turn.id not in live.announcing:  # else its notice, once out, says so (submit)
            await self.view.cancelled(turn)
        await self._settle(turn)
        return True

    async def run_now(self, session: ClaudeSession, turn: Turn) -> bool:
        """Move a queued turn to the front and interrupt the running one."""
        live = self._live.get(session.name)
        if live is None or turn not in live.queue:
            return False
        live.queue.remove(turn)
        live.queue.appendleft(turn)
        await self.stop(session)
        return True

    async def stop(self, session: ClaudeSession) -> bool:
        """Interrupt this session's running turn (queued ones stay queued)."""
        live = self._live.get(session.name)
        if live is None or not live.is_running or live.answered:  # answered: nothing left to stop
            return False
        live.stop_requested = True
        oplog.stop_asked(session.name)
        await self.runner.interrupt(session)
        return True

    async def stop_and_clear(self, session: ClaudeSession) -> int:
        """Interrupt the running turn and cancel every queued one (for /new); returns how many were cancelled."""
        cancelled = 0
        for turn in self._queue_of(session):
            cancelled += await self.cancel(session, turn)
        await self.stop(session)
        return cancelled

    def _forget(self, turn: Turn) -> None:
        self._turns.pop(turn.id, None)

    # -- running --------------------------------------------------------------------

    async def _work(self, live: LiveTurns) -> None:
        session = live.session
        try:
            await self._starts.wait()
            while live.queue:
                turn = take_batch(live.queue)  # messages that waited together go to Claude together
                for other in turn.merged[1:]:
                    self._forget(other)
                    if other.id in live.announcing:
                        live.absorbed.add(other.id)  # its notice is still on its way: submit settles it
                    else:
                        self.view.merged(other)  # its answer is the first one's: its notice says so
                try:
                    await self._run(live, turn)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("turn %s of session %s failed", turn.id, session.name)
                    await self.view.failed(turn)
                    await self._settle(turn)
                finally:
                    live.running_since = live.current_tool = live.turn = live.reply = None
                    self._forget(turn)
        finally:
            if not live.queue and self._live.get(session.name) is live:
                del self._live[session.name]  # idle: nothing live to keep

    @contextlib.asynccontextmanager
    async def _slot(self, live: LiveTurns) -> AsyncIterator[None]:
        """One of the turns Claude works on at once; while a turn waits for one, its progress says so."""
        waiting = live.reply if self._slots.locked() else None
        if waiting is not None:
            waiting.waiting_for_slot(self._running, self.max_concurrent)
        await self._slots.acquire()
        if waiting is not None:
            waiting.waiting_for_slot(None, self.max_concurrent)
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self._slots.release()

    async def _run(self, live: LiveTurns, turn: Turn) -> None:
        session = live.session
        live.starting(turn)
        self.view.drop_notice(turn)
        first = turn.inbox[0] if turn.inbox else None
        if first is not None and first.answer is not None:
            # Answered before the bot died, but not shown: show it, without asking Claude again.
            await self._deliver(self.view.live_reply(turn, session.name, self._on_shown(turn)), first.answer)
            await self._settle(turn)
            return
        if await self._finished_before(session, turn):
            return
        starts = await self._started(turn)
        if starts > MAX_STARTS:
            await self.view.gave_up(turn, first.progress_id if first else None)
            await self._settle(turn)
            return
        resumed_in = first.progress_id if first is not None and starts > 1 else None
        reply = self.view.live_reply(turn, session.name, self._on_shown(turn), resumed_in=resumed_in)
        await reply.start()
        live.reply = reply
        epoch = session.conversation_epoch
        before = await self.changes.before(session) if self.changes else None
        prompt = await self.build_prompt(session, turn)
        if starts > 1 and not turn.command:
            prompt = prompt.after(RESUMED_NOTE)
        started, spent_before = time.monotonic(), session.record.totals.cost_usd
        if live.stop_requested:  # stopped before it reached Claude
            outcome = TurnOutcome()
        else:
            # The slot is taken once its CLI is up: starting one is not Claude's work, and showing
            # the answer (paced by Telegram) comes after the slot is free again.
            outcome = await self.runner.run(session, turn, prompt, self._reporter(live, reply), gate=lambda: self._slot(live))
        live.reply = None  # its last edits belong to the delivery now
        live.answered = True  # Claude is done: /status says idle, /stop has nothing to stop, a new message needs no queue notice
        self._record(session, outcome, epoch)
        spent = session.record.totals.cost_usd - spent_before if outcome.cumulative_cost is not None else None
        if live.cut_short or (self._shutting_down and outcome.error):
            # Cut short by the shutdown (or its CLI killed with it): it stays in the inbox and
            # goes on after the start.
            oplog.turn_done(turn.key, time.monotonic() - started, spent, "cut short by the stop, goes on after the start")
            await reply.interrupted()
            return
        changed = await self.changes.after(session, before, turn.prompt) if self.changes else None
        answer = _answer(outcome, live.stop_requested, changed)
        oplog.turn_done(turn.key, time.monotonic() - started, spent, OUTCOMES.get(answer.kind, answer.kind), answer.sentence if answer.kind == "fail" else "")
        await self._note(turn, "answer", answer)
        await self._deliver(reply, answer)
        await self._settle(turn)

    async def _finished_before(self, session: ClaudeSession, turn: Turn) -> bool:
        """A turn that ran before the bot died, with no end on record: if Claude Code's transcript shows it
        finished, it is completed from there once (no second answer), else False: it runs again."""
        first = turn.inbox[0] if turn.inbox else None
        if self.transcripts is None or first is None or first.runs == 0 or turn.command or not session.session_id:
            return False
        text = await self.transcripts.finished(session, turn.prompt)
        if text is None:
            return False
        log.info("turn %s of session %s had finished before the restart; completed from its transcript", turn.id, session.name)
        answer = RecordedAnswer(kind="finish", text=text)
        await self._note(turn, "answer", answer)
        await self._deliver(self.view.live_reply(turn, session.name, self._on_shown(turn), resumed_in=first.progress_id), answer)
        await self._settle(turn)
        return True

    @staticmethod
    def _reporter(live: LiveTurns, reply: LiveReply) -> Callable[[TurnEvent], None]:
        def report(event: TurnEvent) -> None:
            if isinstance(event, TextDelta):
                reply.text(event.text)
            elif isinstance(event, ToolStarted):
                live.current_tool = event.description
                reply.tool_started(event.description)
            elif isinstance(event, Retrying):
                reply.retrying(event.sentence)
            elif isinstance(event, DeskBusy):
                reply.waiting_for_desk(event.busy)

        return report

    def _on_shown(self, turn: Turn) -> Callable[[int], None]:
        """Remember the progress message, so a turn cut short can be carried on in it after a restart."""

        def shown(message_id: int) -> None:
            self._in_background(self._note(turn, "progress", message_id))

        return shown

    def _in_background(self, note: Coroutine[Any, Any, None]) -> None:
        """A note for the inbox from code that cannot wait for it; shutdown waits for these."""
        task = asyncio.create_task(note)
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)

    # -- the inbox ------------------------------------------------------------------

    async def _started(self, turn: Turn) -> int:
        """Note the start of each message the turn answers, as one batch (a restart carries them on together)."""
        if self.inbox is None or not turn.inbox:
            return 1
        batch = turn.inbox[0].id
        return max([await self.inbox.started(accepted, batch) for accepted in turn.inbox])

    async def _note(self, turn: Turn, kind: str, value: Any) -> None:
        if self.inbox is not None and turn.inbox and value is not None:
            await self.inbox.note(turn.inbox[0], kind, value)

    async def _settle(self, turn: Turn) -> None:
        if self.inbox is not None:
            for accepted in turn.inbox:
                await self.inbox.settle(accepted)

    # -- shutdown and recovery -------------------------------------------------------

    def hurry(self) -> None:
        """A second stop signal: running turns are cut short now (and carried on after the start)."""
        if not self._hurry.is_set():
            log.warning("stopping now: the running turns are cut short and go on after the next start")
        self._hurry.set()

    @property
    def hurried(self) -> bool:
        return self._hurry.is_set()

    async def shutdown(self, grace: float) -> None:
        """On SIGTERM/SIGINT: no new turn starts; running ones get `grace` seconds to finish, then
        they are interrupted. Whatever did not finish stays in the inbox and goes on after the start."""
        self._shutting_down = True
        workers = []
        for live in list(self._live.values()):
            for turn in list(live.queue):
                live.queue.remove(turn)
                self._forget(turn)
                self.view.after_restart(turn)
            if live.worker is not None and not live.worker.done():
                workers.append(live.worker)
        if not workers:
            return
        turns = f"{len(workers)} turn{'s are' if len(workers) != 1 else ' is'}"
        log.warning(
            "stopping: %s still running; waiting up to %s s for %s to finish (Ctrl-C again stops now; "
            "whatever is cut short goes on after the next start)", turns, f"{grace:g}", "them" if len(workers) != 1 else "it",
        )
        everything, hurry = asyncio.ensure_future(asyncio.wait(workers)), asyncio.ensure_future(self._hurry.wait())
        await asyncio.wait([everything, hurry], timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        everything.cancel()
        hurry.cancel()
        pending = {worker for worker in workers if not worker.done()}
        for live in list(self._live.values()):
            if live.is_running:
                live.cut_short = True
                await self.runner.interrupt(live.session)
        if pending:
            await asyncio.wait(pending, timeout=2 if self._hurry.is_set() else 10)
        if self._notes:
            await asyncio.wait(self._notes, timeout=5)

    @staticmethod
    def _record(session: ClaudeSession, outcome: TurnOutcome, epoch: int) -> None:
        session.remember_claude_commands(outcome.slash_commands, outcome.skills)
        if session.conversation_epoch != epoch:
            # /new or /resume happened during the turn: the chat has moved on; keep the
            # turn's conversation in history only.
            if outcome.session_id and outcome.session_id != session.session_id:
                session.remember(outcome.session_id)
            return
        session.record_result(
            session_id=outcome.session_id,
            cumulative_cost=outcome.cumulative_cost,
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
            context_tokens=outcome.context_tokens,
            context_window=outcome.context_window,
            duration_ms=outcome.duration_ms,
        )

    @staticmethod
    async def _deliver(reply: LiveReply, answer: RecordedAnswer) -> None:
        if answer.kind == "fail":
            await reply.fail(answer.sentence, answer.text)
        elif answer.kind == "stopped":
            await reply.stopped(answer.text, changed=answer.changed)
        else:
            await reply.finish(answer.text, changed=answer.changed)


def _answer(outcome: TurnOutcome, stopped: bool, changed: ChangeRef | None) -> RecordedAnswer:
    """What the chat is shown for a finished turn, in the form the inbox keeps until it is shown."""
    if outcome.error:
        return RecordedAnswer(kind="fail", sentence=outcome.error, text=outcome.text)
    return RecordedAnswer(kind="stopped" if stopped else "finish", text=outcome.text, changed=changed)
