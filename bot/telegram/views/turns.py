"""Turns in Telegram: queue notices with their buttons, and each turn's streaming reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.features.diff import summary_line
from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef
from bot.sessions.session import Turn
from bot.telegram.keyboards import diff_keyboard, queued_keyboard, stop_keyboard
from bot.telegram.outbox import Outboxes
from bot.telegram.reply import StreamingReply

RESTARTING_NOT_RUN = "The bot is restarting: this message was not sent to Claude; send it again in a moment."
CRASHED_DURING_TURN = "⚠️ The bot restarted while working on this; the conversation is kept, but send your message again."
FAILED = "Something went wrong while answering this message; please send it again."
CANCELLED = "✖️ Cancelled: this message will not be sent to Claude."
STOPPED = "⏹ Stopped."
STOPPED_RESTARTING = "⏹ Stopped: the bot is restarting; send your message again in a moment."
TOOL = "🔧 "
MERGED = "➕ Sent to Claude together with the waiting message before it; one answer for both."
EDITED_WHILE_QUEUED = (
    "⏳ Queued, edited: after the current turn, Claude gets the edited text, together with the other messages waiting then."
)

PROGRESS_AFTER = 1.0  # a turn done sooner shows only its reply (see StreamingReply)


class TelegramReply:
    """A LiveReply: the turn's StreamingReply (progress message with a Stop button, then the answer)."""

    def __init__(self, reply: StreamingReply) -> None:
        self._reply = reply

    async def start(self) -> None:
        await self._reply.start()

    def text(self, delta: str) -> None:
        self._reply.append_text(delta)

    def tool_started(self, description: str) -> None:
        self._reply.set_status(TOOL + description)

    async def finish(self, text: str, *, changed: ChangeRef | None = None) -> None:
        await self._reply.finish(text, **_changes(changed))

    async def stopped(self, partial: str, *, restarting: bool, changed: ChangeRef | None = None) -> None:
        text = partial.rstrip()
        note = STOPPED_RESTARTING if restarting else STOPPED
        await self._reply.finish((text + "\n\n" if text else "") + note, **_changes(changed))

    async def fail(self, sentence: str, partial: str) -> None:
        await self._reply.fail(sentence, partial)


def _changes(changed: ChangeRef | None) -> dict[str, Any]:
    """A turn that changed files ends with a line saying so and a Diff button."""
    return {"footer": summary_line(changed), "reply_markup": diff_keyboard(changed)} if changed else {}


class TelegramTurns:
    """The scheduler's TurnsView."""

    def __init__(self, outboxes: Outboxes) -> None:
        self.outboxes = outboxes

    def live_reply(self, turn: Turn, session_name: str, on_shown: Callable[[int], None]) -> TelegramReply:
        return TelegramReply(
            StreamingReply(
                self.outboxes,
                turn.key,
                reply_to=turn.reply_to,
                stop_markup=stop_keyboard(session_name),
                show_after=PROGRESS_AFTER,
                on_shown=on_shown,
            )
        )

    async def queued(self, turn: Turn, position: int) -> int | None:
        return await self.outboxes.send_text(
            turn.key,
            f"⏳ Queued (position {position}): after the current turn, Claude gets this together with "
            "the other messages waiting then, in order.",
            reply_to=turn.reply_to,
            reply_markup=queued_keyboard(turn.id),
        )

    async def waiting_for_slot(self, turn: Turn, running: int, limit: int) -> int | None:
        return await self.outboxes.send_text(
            turn.key,
            f"⏳ Waiting for a free slot: {running} chats are using Claude right now (limit {limit}).",
            reply_to=turn.reply_to,
        )

    def merged(self, turn: Turn) -> None:
        if turn.queued_message_id:  # the notice stays, saying where its answer is
            self.outboxes.edit_text(turn.key, turn.queued_message_id, MERGED)

    def edited(self, turn: Turn) -> None:
        if turn.queued_message_id:
            self.outboxes.edit_text(turn.key, turn.queued_message_id, EDITED_WHILE_QUEUED, reply_markup=queued_keyboard(turn.id))

    def cancelled(self, turn: Turn) -> None:
        if turn.queued_message_id:
            self.outboxes.edit_text(turn.key, turn.queued_message_id, CANCELLED)

    async def not_run(self, turn: Turn) -> None:
        if turn.queued_message_id:
            self.outboxes.edit_text(turn.key, turn.queued_message_id, RESTARTING_NOT_RUN)
        else:
            await self.outboxes.send_text(turn.key, RESTARTING_NOT_RUN, reply_to=turn.reply_to)

    def drop_notice(self, turn: Turn) -> None:
        if turn.queued_message_id:
            self.outboxes.delete(turn.key, turn.queued_message_id)

    async def failed(self, turn: Turn) -> None:
        await self.outboxes.send_text(turn.key, FAILED, reply_to=turn.reply_to)

    def interrupted_by_crash(self, key: ChatKey, message_id: int) -> None:
        self.outboxes.edit_text(key, message_id, CRASHED_DURING_TURN)
