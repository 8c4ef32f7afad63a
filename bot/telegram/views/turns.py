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
from bot.telegram.webapp import ReviewButtons

QUEUED_OVER_RESTART = "⏸ The bot is restarting; this message stays queued and is answered after it starts."
CUT_BY_RESTART = "⏸ The bot is restarting; this turn continues after it starts."
GAVE_UP = "⚠️ This turn was cut short by a restart twice, so it is not tried again; send it again if you still need it."
FAILED = "Something went wrong while answering this message; please send it again."
CANCELLED = "✖️ Cancelled: this message will not be sent to Claude."
STOPPED = "⏹ Stopped."
TOOL = "🔧 "
RETRY = "🔁 "
MERGED = "➕ Sent to Claude together with the waiting message before it; one answer for both."
JOINED = "➕ Sent to Claude together with the message before it; one answer for both."
EDITED_WHILE_QUEUED = (
    "⏳ Queued, edited: after the current turn, Claude gets the edited text, together with the other messages waiting then."
)

PROGRESS_AFTER = 1.0  # a turn done sooner shows only its reply (see StreamingReply)


def queued_notice(position: int) -> str:
    # Whatever waits when the current turn ends goes to Claude together, in order (bot/turns/batch.py):
    # one answer for them all, not one after the other.
    if position <= 1:
        return f"⏳ Queued (position {position}): I'll answer this after the current turn."
    before = "the message" if position == 2 else f"the {position - 1} messages"
    return f"⏳ Queued (position {position}): after the current turn, Claude gets this together with {before} before it."


class TelegramReply:
    """A LiveReply: the turn's StreamingReply (a draft or a progress message with a Stop button, then the answer)."""

    def __init__(self, reply: StreamingReply, key: ChatKey | None = None, review: ReviewButtons | None = None) -> None:
        self._reply = reply
        self._key = key
        self._review = review if key is not None else None

    async def start(self) -> None:
        await self._reply.start()

    def text(self, delta: str) -> None:
        self._reply.append_text(delta)

    def tool_started(self, description: str) -> None:
        self._reply.set_status(TOOL + description)

    def retrying(self, sentence: str) -> None:
        self._reply.set_status(RETRY + sentence)

    def waiting_for_answer(self, what: str | None) -> None:
        self._reply.set_waiting(what)

    def waiting_for_slot(self, running: int | None, limit: int) -> None:
        self._reply.set_waiting_for_slot(
            None if running is None else f"{running} chat{'s are' if running != 1 else ' is'} using Claude right now (limit {limit})."
        )

    def waiting_for_desk(self, busy: bool) -> None:
        self._reply.set_waiting_for_desk(busy)

    def refresh(self) -> None:
        self._reply.refresh()

    async def finish(self, text: str, *, changed: ChangeRef | None = None) -> None:
        await self._reply.finish(text, **_changes(changed, self._key, self._review))

    async def stopped(self, partial: str, *, changed: ChangeRef | None = None) -> None:
        text = partial.rstrip()
        await self._reply.finish((text + "\n\n" if text else "") + STOPPED, **_changes(changed, self._key, self._review))

    async def fail(self, sentence: str, partial: str) -> None:
        await self._reply.fail(sentence, partial)

    async def interrupted(self) -> None:
        await self._reply.suspend(CUT_BY_RESTART)


def _changes(changed: ChangeRef | None, key: ChatKey | None, review: ReviewButtons | None) -> dict[str, Any]:
    """A turn that changed files ends with a line saying so, a Diff button and (WEBAPP_URL) the review page's."""
    if not changed:
        return {}
    return {"footer": summary_line(changed), "reply_markup": diff_keyboard(changed, review.button(key, changed) if review and key else None)}


class TelegramTurns:
    """The scheduler's TurnsView."""

    def __init__(self, outboxes: Outboxes, *, drafts: bool = True, review: ReviewButtons | None = None) -> None:
        """``drafts``: private chats see a turn as a draft (TELEGRAM_DRAFTS); off, as a progress message."""
        self.outboxes = outboxes
        self.drafts = drafts
        self.review = review

    def live_reply(
        self, turn: Turn, session_name: str, on_shown: Callable[[int], None], *, resumed_in: int | None = None
    ) -> TelegramReply:
        return TelegramReply(
            StreamingReply(
                self.outboxes,
                turn.key,
                reply_to=turn.reply_to,
                stop_markup=stop_keyboard(session_name),
                edit_interval=self.outboxes.progress_every(turn.key.chat_id),
                show_after=PROGRESS_AFTER,
                on_shown=on_shown,
                resume_in=resumed_in,
                # Telegram shows drafts only in private chats (groups refuse them: TEXTDRAFT_PEER_INVALID).
                draft_of=session_name if self.drafts and turn.key.chat_id > 0 else None,
            ),
            turn.key,
            self.review,
        )

    async def queued(self, turn: Turn, position: int) -> int | None:
        text = queued_notice(position)
        if turn.queued_message_id is not None:  # its notice from before a restart
            self.outboxes.edit_text(turn.key, turn.queued_message_id, text, reply_markup=queued_keyboard(turn.id))
            return turn.queued_message_id
        return await self.outboxes.send_text(turn.key, text, reply_to=turn.reply_to, reply_markup=queued_keyboard(turn.id))

    async def queue_full(self, turn: Turn, limit: int) -> None:
        await self.outboxes.send_text(
            turn.key,
            f"{limit} messages are already waiting in this chat, so this one was not queued; "
            "send it again once Claude has caught up.",
            reply_to=turn.reply_to,
        )

    def merged(self, turn: Turn) -> None:
        if turn.queued_message_id:  # the notice stays, saying where its answer is
            self.outboxes.edit_text(turn.key, turn.queued_message_id, MERGED)

    async def joined(self, turn: Turn) -> None:
        await self.outboxes.send_text(turn.key, JOINED, reply_to=turn.reply_to)

    def edited(self, turn: Turn) -> None:
        if turn.queued_message_id:
            self.outboxes.edit_text(turn.key, turn.queued_message_id, EDITED_WHILE_QUEUED, reply_markup=queued_keyboard(turn.id))

    async def cancelled(self, turn: Turn) -> None:
        await self._answer_in(turn, turn.queued_message_id, CANCELLED)

    def after_restart(self, turn: Turn) -> None:
        if turn.queued_message_id:
            self.outboxes.edit_text(turn.key, turn.queued_message_id, QUEUED_OVER_RESTART)

    async def gave_up(self, turn: Turn, progress_id: int | None) -> None:
        await self._answer_in(turn, progress_id, GAVE_UP)

    async def _answer_in(self, turn: Turn, message_id: int | None, text: str) -> None:
        """A turn's last word, in its notice or progress message if it has one, else a new reply; awaited, because
        the turn is settled next: a queued edit that a kill (or a flood pause) kept from Telegram would leave
        the message settled with no answer."""
        if message_id is not None and await self.outboxes.edit_text_now(turn.key, message_id, text):
            return
        await self.outboxes.send_text(turn.key, text, reply_to=turn.reply_to)

    def drop_notice(self, turn: Turn) -> None:
        if turn.queued_message_id:
            self.outboxes.delete(turn.key, turn.queued_message_id)

    async def failed(self, turn: Turn) -> None:
        await self.outboxes.send_text(turn.key, FAILED, reply_to=turn.reply_to)
