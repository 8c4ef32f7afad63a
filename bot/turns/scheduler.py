"""Turn scheduling: one turn at a time per session, at most N across the bot, nothing dropped.

Each session has an in-memory queue and a worker task. A message that arrives while its
session is busy is queued in order and the chat is told so; a global semaphore bounds the
Claude turns running at once and a chat that has to wait for it is told that too.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bot.claude.runner import ClaudeRunner, TurnOutcome
from bot.sessions.keys import ChatKey
from bot.sessions.records import OpenReply
from bot.sessions.session import ClaudeSession, Turn
from bot.turns.batch import take_batch
from bot.telegram.keyboards import queued_keyboard, stop_keyboard
from bot.telegram.outbox import Outboxes
from bot.telegram.reply import StreamingReply

log = logging.getLogger(__name__)

RESTARTING_NOT_RUN = "The bot is restarting: this message was not sent to Claude; send it again in a moment."
CRASHED_DURING_TURN = "⚠️ The bot restarted while working on this; the conversation is kept, but send your message again."

MERGED = "➕ Sent to Claude together with the waiting message before it; one answer for both."
PROGRESS_AFTER = 1.0  # a turn done sooner shows only its reply (see StreamingReply)

PromptBuilder = Callable[[ClaudeSession, Turn], Awaitable["str | AsyncIterator[dict[str, Any]]"]]


class _StatusTracker:
    """Forwards a turn's events to the chat and keeps the session's `current_tool` current."""

    def __init__(self, session: ClaudeSession, reply: StreamingReply) -> None:
        self.session = session
        self.reply = reply

    def append_text(self, delta: str) -> None:
        self.reply.append_text(delta)

    def set_status(self, line: str) -> None:
        self.session.current_tool = line.removeprefix("🔧 ")
        self.reply.set_status(line)


class TurnScheduler:
    def __init__(
        self,
        runner: ClaudeRunner,
        outboxes: Outboxes,
        *,
        max_concurrent: int,
        build_prompt: PromptBuilder,
    ) -> None:
        self.runner = runner
        self.outboxes = outboxes
        self.build_prompt = build_prompt
        self.max_concurrent = max_concurrent
        self._slots = asyncio.Semaphore(max_concurrent)
        self._running = 0
        self._ids = itertools.count(1)
        self._turns: dict[int, tuple[ClaudeSession, Turn]] = {}
        self._shutting_down = False

    @property
    def running(self) -> int:
        return self._running

    async def submit(self, session: ClaudeSession, turn: Turn) -> None:
        """Queue `turn`; tell the chat when it has to wait behind another turn."""
        turn.id = next(self._ids)
        self._turns[turn.id] = (session, turn)
        busy = session.is_running or bool(session.queue)
        session.queue.append(turn)
        session.touch()
        if busy:
            position = len(session.queue)
            turn.queued_message_id = await self.outboxes.send_text(
                turn.key,
                f"⏳ Queued (position {position}): after the current turn, Claude gets this together with "
                "the other messages waiting then, in order.",
                reply_to=turn.reply_to,
                reply_markup=queued_keyboard(turn.id),
            )
        if session.worker is None or session.worker.done():
            session.worker = asyncio.create_task(self._work(session), name=f"turns-{session.name}")

    def find_turn(self, turn_id: int) -> tuple[ClaudeSession, Turn] | None:
        return self._turns.get(turn_id)

    async def cancel(self, session: ClaudeSession, turn: Turn) -> bool:
        """Cancel a queued turn; False when it already ran or is running."""
        if turn not in session.queue:
            return False
        session.queue.remove(turn)
        turn.cancelled = True
        self._forget(turn)
        if turn.queued_message_id:
            self.outboxes.edit_text(turn.key, turn.queued_message_id, "✖️ Cancelled: this message will not be sent to Claude.")
        return True

    async def run_now(self, session: ClaudeSession, turn: Turn) -> bool:
        """Move a queued turn to the front and interrupt the running one."""
        if turn not in session.queue:
            return False
        session.queue.remove(turn)
        session.queue.appendleft(turn)
        await self.stop(session)
        return True

    async def stop(self, session: ClaudeSession) -> bool:
        """Interrupt this session's running turn (queued ones stay queued)."""
        if not session.is_running:
            return False
        session.interrupt_requested = True
        await self.runner.interrupt(session)
        return True

    async def stop_and_clear(self, session: ClaudeSession) -> int:
        """Interrupt the running turn and cancel every queued one (for /new); returns how many were cancelled."""
        cancelled = 0
        for turn in list(session.queue):
            cancelled += await self.cancel(session, turn)
        await self.stop(session)
        return cancelled

    def _forget(self, turn: Turn) -> None:
        self._turns.pop(turn.id, None)

    async def _work(self, session: ClaudeSession) -> None:
        while session.queue:
            turn, absorbed = take_batch(session.queue)  # messages that waited together go to Claude together
            for other in absorbed:
                self._forget(other)
                if other.queued_message_id:  # its answer is the first one's: the notice says so, and stays
                    self.outboxes.edit_text(other.key, other.queued_message_id, MERGED)
            try:
                await self._run_with_slot(session, turn)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("turn %s of session %s failed", turn.id, session.name)
                await self.outboxes.send_text(
                    turn.key, "Something went wrong while answering this message; please send it again.", reply_to=turn.reply_to
                )
            finally:
                session.running_since = None
                session.current_tool = None
                session.current_turn = None
                if session.record.open_reply is not None:
                    self._mark_open(session, turn, None)
                self._forget(turn)

    async def _run_with_slot(self, session: ClaudeSession, turn: Turn) -> None:
        if self._slots.locked():
            notice = await self.outboxes.send_text(
                turn.key,
                f"⏳ Waiting for a free slot: {self._running} chats are using Claude right now (limit {self.max_concurrent}).",
                reply_to=turn.reply_to,
            )
            if turn.queued_message_id:
                self.outboxes.delete(turn.key, turn.queued_message_id)
            turn.queued_message_id = notice
        async with self._slots:
            self._running += 1
            try:
                await self._run(session, turn)
            finally:
                self._running -= 1

    async def _run(self, session: ClaudeSession, turn: Turn) -> None:
        if turn.queued_message_id:
            self.outboxes.delete(turn.key, turn.queued_message_id)
        session.running_since = time.time()
        session.current_turn = turn
        session.interrupt_requested = False
        reply = StreamingReply(
            self.outboxes,
            turn.key,
            reply_to=turn.reply_to,
            stop_markup=stop_keyboard(session.name),
            show_after=PROGRESS_AFTER,
            on_shown=lambda message_id: self._mark_open(session, turn, message_id),
        )
        await reply.start()
        epoch = session.conversation_epoch
        prompt = await self.build_prompt(session, turn)
        outcome = await self.runner.run(session, turn, prompt, _StatusTracker(session, reply))
        self._record(session, outcome, epoch)
        await self._deliver(reply, outcome, session.interrupt_requested, self._shutting_down)

    @staticmethod
    def _mark_open(session: ClaudeSession, turn: Turn, message_id: int | None) -> None:
        session.record.open_reply = (
            OpenReply(chat_id=turn.key.chat_id, thread_id=turn.key.thread_id, message_id=message_id) if message_id else None
        )
        session.save()

    async def shutdown(self, sessions: list[ClaudeSession], grace: float = 10.0) -> None:
        """On SIGTERM/SIGINT: queued turns are told they did not run, running ones are stopped and report."""
        self._shutting_down = True
        workers = []
        for session in sessions:
            for turn in list(session.queue):
                session.queue.remove(turn)
                self._forget(turn)
                if turn.queued_message_id:
                    self.outboxes.edit_text(turn.key, turn.queued_message_id, RESTARTING_NOT_RUN)
                else:
                    await self.outboxes.send_text(turn.key, RESTARTING_NOT_RUN, reply_to=turn.reply_to)
            if session.is_running:
                await self.stop(session)
            if session.worker is not None and not session.worker.done():
                workers.append(session.worker)
        if workers:
            await asyncio.wait(workers, timeout=grace)

    async def correct_open_replies(self, sessions: list[ClaudeSession]) -> None:
        """After a crash: progress messages of turns that never finished say so instead of hanging."""
        for session in sessions:
            open_reply = session.record.open_reply
            if open_reply is None or session.is_running:
                continue
            session.record.open_reply = None
            session.save()
            key = ChatKey(open_reply.chat_id, open_reply.thread_id)
            self.outboxes.edit_text(key, open_reply.message_id, CRASHED_DURING_TURN)

    @staticmethod
    def _record(session: ClaudeSession, outcome: TurnOutcome, epoch: int) -> None:
        if session.conversation_epoch != epoch:
            # /new or /resume happened during the turn: the chat has moved on; keep the
            # turn's conversation in history only.
            if outcome.session_id and outcome.session_id != session.session_id:
                session.remember(outcome.session_id)
            return
        result = outcome.result
        session.record_result(
            session_id=outcome.session_id,
            cumulative_cost=result.total_cost_usd if result else None,
            usage=result.usage if result else None,
            context_tokens=outcome.context_tokens,
            context_window=outcome.context_window,
            duration_ms=result.duration_ms if result else 0,
        )

    @staticmethod
    async def _deliver(reply: StreamingReply, outcome: TurnOutcome, stopped: bool, restarting: bool) -> None:
        if outcome.error:
            await reply.fail(outcome.error, outcome.text)
        elif outcome.interrupted or stopped:
            text = outcome.text.rstrip()
            note = "⏹ Stopped: the bot is restarting; send your message again in a moment." if restarting else "⏹ Stopped."
            await reply.finish((text + "\n\n" if text else "") + note)
        else:
            await reply.finish(outcome.text)
