"""Turn scheduling: one turn at a time per session, at most N across the bot, nothing dropped.

Each session has an in-memory queue and a worker task (its `LiveTurns`, owned here). A
message that arrives while its session is busy is queued in order and the chat is told so;
a global semaphore bounds the Claude turns running at once and a chat that has to wait for
it is told that too. The chat is reached only through a `TurnsView`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from bot.chat import LiveReply, TurnsView
from bot.claude.events import TextDelta, ToolStarted, TurnEvent, TurnOutcome
from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef, OpenReply
from bot.sessions.session import ClaudeSession, Turn
from bot.turns.batch import take_batch
from bot.turns.live import Activity, LiveTurns

log = logging.getLogger(__name__)

PromptBuilder = Callable[[ClaudeSession, Turn], Awaitable["str | AsyncIterator[dict[str, Any]]"]]


class TurnRunner(Protocol):
    """What the scheduler needs of bot.claude.runner.ClaudeRunner."""

    async def run(
        self, session: ClaudeSession, turn: Turn, prompt: str | AsyncIterator[dict[str, Any]], report: Callable[[TurnEvent], None]
    ) -> TurnOutcome: ...

    async def interrupt(self, session: ClaudeSession) -> bool: ...


class ChangeWatcher(Protocol):
    """What a turn changed in its work tree (bot.features.diff.ChangeTracker): a snapshot before, the change after."""

    async def before(self, session: ClaudeSession) -> Any: ...

    async def after(self, session: ClaudeSession, before: Any) -> ChangeRef | None: ...


class TurnScheduler:
    def __init__(
        self,
        runner: TurnRunner,
        view: TurnsView,
        *,
        max_concurrent: int,
        build_prompt: PromptBuilder,
        changes: ChangeWatcher | None = None,
    ) -> None:
        self.runner = runner
        self.view = view
        self.build_prompt = build_prompt
        self.changes = changes
        self.max_concurrent = max_concurrent
        self._slots = asyncio.Semaphore(max_concurrent)
        self._running = 0
        self._ids = itertools.count(1)
        self._turns: dict[int, tuple[ClaudeSession, Turn]] = {}
        self._live: dict[str, LiveTurns] = {}
        self._shutting_down = False

    @property
    def running(self) -> int:
        return self._running

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
        """Queue `turn`; tell the chat when it has to wait behind another turn."""
        live = self._live_for(session)
        turn.id = next(self._ids)
        self._turns[turn.id] = (session, turn)
        busy = live.busy
        live.queue.append(turn)
        session.touch()
        if busy:
            turn.queued_message_id = await self.view.queued(turn, len(live.queue))
            self._settle_late_notice(live, turn)
        if live.worker is None or live.worker.done():
            live.worker = asyncio.create_task(self._work(live), name=f"turns-{session.name}")

    def _settle_late_notice(self, live: LiveTurns, turn: Turn) -> None:
        """A queue notice that arrived after its turn left the queue must not stay "queued"."""
        if turn.id in live.absorbed:
            live.absorbed.discard(turn.id)
            self.view.merged(turn)
        elif turn.cancelled:
            self.view.cancelled(turn)
        elif not any(waiting is turn for waiting in live.queue):
            self.view.drop_notice(turn)  # it ran (or runs) already: its reply answers it

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
        self.view.cancelled(turn)
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
        if live is None or not live.is_running:
            return False
        live.stop_requested = True
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
            while live.queue:
                turn = take_batch(live.queue)  # messages that waited together go to Claude together
                for other in turn.merged[1:]:
                    self._forget(other)
                    if other.queued_message_id is None:
                        live.absorbed.add(other.id)  # its notice is still on its way: submit settles it
                    else:
                        self.view.merged(other)  # its answer is the first one's: its notice says so
                try:
                    await self._run_with_slot(live, turn)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("turn %s of session %s failed", turn.id, session.name)
                    await self.view.failed(turn)
                finally:
                    live.running_since = live.current_tool = live.turn = None
                    if session.record.open_reply is not None:
                        self._mark_open(session, turn, None)
                    self._forget(turn)
        finally:
            if not live.queue and self._live.get(session.name) is live:
                del self._live[session.name]  # idle: nothing live to keep

    async def _run_with_slot(self, live: LiveTurns, turn: Turn) -> None:
        if self._slots.locked():
            notice = await self.view.waiting_for_slot(turn, self._running, self.max_concurrent)
            self.view.drop_notice(turn)
            turn.queued_message_id = notice
        async with self._slots:
            self._running += 1
            try:
                await self._run(live, turn)
            finally:
                self._running -= 1

    async def _run(self, live: LiveTurns, turn: Turn) -> None:
        session = live.session
        self.view.drop_notice(turn)
        live.running_since = time.time()
        live.turn = turn
        live.stop_requested = False
        reply = self.view.live_reply(turn, session.name, lambda message_id: self._mark_open(session, turn, message_id))
        await reply.start()
        epoch = session.conversation_epoch
        before = await self.changes.before(session) if self.changes else None
        prompt = await self.build_prompt(session, turn)
        outcome = await self.runner.run(session, turn, prompt, self._reporter(live, reply))
        self._record(session, outcome, epoch)
        changed = await self.changes.after(session, before) if self.changes else None
        await self._deliver(reply, outcome, live.stop_requested, self._shutting_down, changed)

    @staticmethod
    def _reporter(live: LiveTurns, reply: LiveReply) -> Callable[[TurnEvent], None]:
        def report(event: TurnEvent) -> None:
            if isinstance(event, TextDelta):
                reply.text(event.text)
            elif isinstance(event, ToolStarted):
                live.current_tool = event.description
                reply.tool_started(event.description)

        return report

    @staticmethod
    def _mark_open(session: ClaudeSession, turn: Turn, message_id: int | None) -> None:
        session.record.open_reply = (
            OpenReply(chat_id=turn.key.chat_id, thread_id=turn.key.thread_id, message_id=message_id) if message_id else None
        )
        session.save()

    # -- shutdown and recovery -------------------------------------------------------

    async def shutdown(self, grace: float = 10.0) -> None:
        """On SIGTERM/SIGINT: queued turns are told they did not run, running ones are stopped and report."""
        self._shutting_down = True
        workers = []
        for live in list(self._live.values()):
            for turn in list(live.queue):
                live.queue.remove(turn)
                self._forget(turn)
                await self.view.not_run(turn)
            if live.is_running:
                await self.stop(live.session)
            if live.worker is not None and not live.worker.done():
                workers.append(live.worker)
        if workers:
            await asyncio.wait(workers, timeout=grace)

    async def correct_open_replies(self, sessions: list[ClaudeSession]) -> None:
        """After a crash: progress messages of turns that never finished say so instead of hanging."""
        for session in sessions:
            open_reply = session.record.open_reply
            if open_reply is None or self.is_running(session):
                continue
            session.record.open_reply = None
            session.save()
            self.view.interrupted_by_crash(ChatKey(open_reply.chat_id, open_reply.thread_id), open_reply.message_id)

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
    async def _deliver(
        reply: LiveReply, outcome: TurnOutcome, stopped: bool, restarting: bool, changed: ChangeRef | None = None
    ) -> None:
        if outcome.error:
            await reply.fail(outcome.error, outcome.text)
        elif stopped:
            await reply.stopped(outcome.text, restarting=restarting, changed=changed)
        else:
            await reply.finish(outcome.text, changed=changed)
