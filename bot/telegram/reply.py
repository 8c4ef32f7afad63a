"""The live view of one Claude turn: a draft (private chats) or a progress message while it works, then the reply.

In a private chat the turn streams as a draft (Bot API 9.5 `sendMessageDraft`): it shows at once
("Thinking…"), carries Telegram's own stop button, and the answer arrives as a new message, which
the phone notifies. Where Telegram refuses drafts (groups, or any chat that answers with an
error) the turn shows a progress message instead, edited into the answer; a turn that ran long
enough for the user to look away ends with a new message there too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any


from bot.sessions.keys import ChatKey
from bot.telegram.drafts import LiveDraft
from bot.telegram.outbox import Outboxes
from bot.telegram.render import MAX_TEXT, Rendered, plan_reply, render_markdown, text_len
from bot.util.text import clip

log = logging.getLogger(__name__)

WORKING = "⏳ Working…"
RESUMED = "↻ Restarted, continuing…"
WAITING = "⏸ Waiting for your answer: "  # + what the request is about (it may be above or below)
SLOT_WAIT = "⏳ Waiting for a free slot…"
DESK_WAIT = "⏳ This conversation is busy at the desk; your message goes on when it finishes."
NO_TEXT = "(no text reply)"
TYPING_EVERY = 4.5  # Telegram shows "typing" for about 5 s
TYPING_AFTER = 0.5  # with a deferred progress message: a reply sooner than this needs no "typing…"
TICK_EVERY = 5.0  # the elapsed time moves on even while Claude is quiet (e.g. waiting for an approval)
# A draft shows about 30 s unless renewed; while nothing else changes it is renewed (and its seconds
# move on) this often, so a quiet turn costs a call every 20 s, not every 5.
DRAFT_RENEW = 20.0
LINE_LIMIT = 200
LONG_TURN = 30.0  # seconds: the user may have looked away, so the answer comes as a message that notifies
NOTES_SHOWN = 3


class StreamingReply:
    def __init__(
        self,
        outbox: Outboxes,
        key: ChatKey,
        *,
        reply_to: int | None = None,
        stop_markup: Any = None,
        edit_interval: float = 1.0,
        show_after: float = 0.0,
        on_shown: Callable[[int], None] | None = None,
        resume_in: int | None = None,
        draft_of: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``show_after``: seconds before the progress message appears; a turn done sooner is just its reply.
        ``resume_in``: the progress message of this turn from before a restart, which it continues in.
        ``draft_of``: stream the turn as a draft (a private chat) of this session, which its stop button stops."""
        self._outbox = outbox
        self._key = key
        self._reply_to = reply_to
        self._stop_markup = stop_markup
        self._edit_interval = edit_interval
        self._show_after = show_after
        self._on_shown = on_shown  # told the progress message's id (e.g. to persist it for crash recovery)
        self._clock = clock
        self._waiting: str | None = None  # what the request of this turn that waits for the user is about
        self._slot_wait: str | None = None  # why the turn waits for a slot (it has not reached Claude yet)
        self._desk_wait = False  # the turn waits for a turn at the desk in the same conversation to end
        self._message_id: int | None = None
        self._showing: asyncio.Task[int | None] | None = None  # sending the progress message
        self._status = ""
        self._notes: list[str] = []
        self._parts: list[str] = []  # streamed text; joined only when shown
        self._started = clock()
        self._dirty = False
        self._next_edit = 0.0
        self._next_typing = 0.0
        self._next_tick = 0.0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._done = False
        self._resume_in = resume_in
        self._draft_of = draft_of
        self._draft_id: int | None = None  # set while the turn streams as a draft
        self._drafted = False  # the turn is shown as a draft (not fallen back to a progress message)

    @property
    def message_id(self) -> int | None:
        """The progress message, which becomes the reply's first message."""
        return self._message_id

    async def start(self) -> None:
        self._started = self._clock()
        self._next_edit = self._started + self._edit_interval
        self._next_tick = self._started + (DRAFT_RENEW if self._draft_of is not None else TICK_EVERY)
        if self._draft_of is not None:
            self._start_draft(self._draft_of)
        if self._resume_in is not None:
            self._message_id = self._resume_in
            self._showing = asyncio.ensure_future(asyncio.sleep(0, self._resume_in))
            # A draft shows the turn from now on; the old message just says it goes on (removed at the end).
            markup = None if self._draft_id is not None else self._stop_markup
            self._outbox.edit_text(self._key, self._resume_in, RESUMED, reply_markup=markup)
        elif self._draft_id is None and self._show_after > 0:
            # A quick turn costs one message (its reply), not a send, an edit and a typing action,
            # so it is not held up by the chat's rate limit either.
            self._next_typing = self._started + min(TYPING_AFTER, self._show_after)
        elif self._draft_id is None:
            await self._show_progress(WORKING)
        self._task = asyncio.create_task(self._run(), name=f"progress {self._key}")

    def _start_draft(self, session_name: str) -> None:
        drafts = self._outbox.drafts
        self._draft_id = drafts.new_id()
        self._drafted = True
        drafts.add(self._key, self._draft_id, LiveDraft(session_name, self._end_draft))
        # At once, empty: Telegram shows "Thinking…" until there is something to say.
        self._send_draft("")

    def _send_draft(self, text: str) -> None:
        if self._draft_id is not None:
            self._outbox.draft(self._key, self._draft_id, text, on_refused=self._draft_refused)

    def _end_draft(self) -> None:
        """No draft of this turn is sent from now on (the turn ended, Telegram's stop button was pressed,
        or drafts were refused), and that stop button no longer names a live draft."""
        if self._draft_id is not None:
            self._outbox.drafts.remove(self._key, self._draft_id)
            self._outbox.drop_drafts(self._key, self._draft_id)
            self._draft_id = None

    def _draft_refused(self, reason: str) -> None:
        """Telegram refused the draft: a progress message shows the rest of the turn (nothing streamed is lost)."""
        if self._draft_id is None or self._done:
            return
        log.info("Drafts refused in %s (%s); showing a progress message instead", self._key, reason)
        self._end_draft()
        self._drafted = False
        self._show_after = 0.0
        self._touch()

    async def _show_progress(self, text: str, *, markup: Any = ...) -> None:
        # Its own task, shielded: when the turn ends mid-send, _stop still learns the message id.
        markup = self._stop_markup if markup is ... else markup
        self._showing = asyncio.ensure_future(
            self._outbox.send_text(self._key, text, reply_markup=markup, reply_to=self._reply_to)
        )
        self._message_id = await asyncio.shield(self._showing)
        if self._message_id is not None and self._on_shown is not None:
            self._on_shown(self._message_id)

    def set_status(self, line: str) -> None:
        self._status = _one_line(line)
        self._touch()

    def append_text(self, delta: str) -> None:
        if delta:
            self._parts.append(delta)
            self._touch()

    def set_waiting(self, what: str | None) -> None:
        """A request of this turn waits for the user (``what`` it is about), or (None) no longer."""
        self._waiting = None if what is None else _one_line(what)
        self._touch()

    def set_waiting_for_slot(self, reason: str | None) -> None:
        """The turn waits for one of the bot's slots (``reason``: how busy it is), or (None) no longer."""
        self._slot_wait = reason
        self._touch()

    def set_waiting_for_desk(self, busy: bool) -> None:
        self._desk_wait = busy
        self._touch()

    def refresh(self) -> None:
        """Show the elapsed time now (as /status does), not at the next tick."""
        self._touch()

    def note(self, line: str) -> None:
        self._notes = [*self._notes, _one_line(line)][-NOTES_SHOWN:]
        self._touch()

    async def finish(self, final_markdown: str, *, footer: str = "", reply_markup: Any = None) -> None:
        """Replace the progress message with the reply; the streamed text stands in for an empty final.

        ``footer`` ends the reply (a line of its own); ``reply_markup`` goes on its last message.
        """
        if not await self._stop():
            return
        md = final_markdown if final_markdown.strip() else "".join(self._parts)
        if footer:
            md = f"{md.rstrip()}\n\n{footer}" if md.strip() else footer
        await self._deliver(md, into_progress=True, reply_markup=reply_markup)

    async def suspend(self, note: str) -> None:
        """The bot is going down mid-turn: the progress message says so (without its Stop button)."""
        if not await self._stop():
            return
        if self._message_id is not None:
            self._outbox.edit_text(self._key, self._message_id, note)
        elif self._drafted:  # a draft fades: the note is a message, which the turn goes on in after the start
            await self._show_progress(note, markup=None)

    async def fail(self, sentence: str, partial: str) -> None:
        """The progress message shows ``sentence``; ``partial`` (what Claude finished saying) follows as a reply.

        Not the streamed text: a dropped stream the CLI retried would show its fragments twice.
        """
        if not await self._stop():
            return
        await self._replace_progress(Rendered(sentence, []))
        if partial.strip():
            await self._deliver(partial, into_progress=False)

    # -- internals ------------------------------------------------------------------

    def _touch(self) -> None:
        self._dirty = True
        self._changed.set()

    async def _run(self) -> None:
        try:
            while not self._done:  # (3.11's wait_for can swallow the cancel that _stop sends)
                now = self._clock()
                if self._drafted:  # (after Telegram's stop button: nothing more is shown until the end)
                    await self._draft_step(now)
                    continue
                if now >= self._next_typing:
                    self._outbox.chat_action(self._key)
                    self._next_typing = now + TYPING_EVERY
                if now >= self._next_tick:
                    self._dirty = True
                if self._showing is None and now >= self._started + self._show_after:
                    self._dirty = False
                    self._next_edit = now + self._edit_interval
                    await self._show_progress(self._progress_text(now))
                    continue
                can_edit = self._dirty and self._message_id is not None
                if can_edit and now >= self._next_edit:
                    self._dirty = can_edit = False
                    self._next_edit = now + self._edit_interval
                    self._next_tick = now + TICK_EVERY
                    self._outbox.edit_text(
                        self._key, self._message_id, self._progress_text(now), reply_markup=self._stop_markup
                    )
                timeout = self._next_typing - now
                if self._showing is None:
                    timeout = min(timeout, self._started + self._show_after - now)
                if can_edit:
                    timeout = min(timeout, self._next_edit - now)
                elif self._message_id is not None:
                    timeout = min(timeout, self._next_tick - now)
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout)
                except TimeoutError:
                    pass
        except Exception:  # the view is cosmetic; the final reply is still delivered by finish()
            log.exception("Progress view of %s stopped", self._key)

    async def _draft_step(self, now: float) -> None:
        """One round of the draft's loop: send the newest text when due, then wait for news or the renewal."""
        if now >= self._next_tick:  # a draft fades unless renewed; its seconds move on then too
            self._dirty = True
        if self._dirty and now >= self._next_edit:
            self._dirty = False
            self._next_edit = now + self._edit_interval
            self._next_tick = now + DRAFT_RENEW
            # Nothing to say yet but the seconds: Telegram's own "Thinking…" says it, and costs no new text.
            quiet = not ("".join(self._parts).strip() or self._status or self._waiting or self._slot_wait or self._desk_wait or self._notes)
            self._send_draft("" if quiet else self._progress_text(now))
        timeout = (self._next_edit if self._dirty else self._next_tick) - now
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), max(timeout, 0.0))
        except TimeoutError:
            pass

    def _progress_text(self, now: float) -> str:
        elapsed = int(now - self._started)
        if self._desk_wait:
            lines = [DESK_WAIT]  # before Claude: nothing else to say yet
        elif self._slot_wait:
            lines = [f"{SLOT_WAIT} {elapsed}s", self._slot_wait]
        else:
            lines = [f"{WORKING} {elapsed}s"]
        if self._waiting is not None:
            lines.append(WAITING + self._waiting)  # not the tool line: nothing runs until the user answers
        elif self._status:
            lines.append(self._status)
        header = "\n".join([*lines, *self._notes])
        text = "".join(self._parts).strip()
        if not text:
            return header
        return f"{header}\n\n{_tail(text, MAX_TEXT - text_len(header) - 2)}"

    async def _stop(self) -> bool:
        """Stop the live view; False if the turn was already finished."""
        if self._done:
            return False
        self._done = True
        self._end_draft()  # nothing of this turn is drafted again: the old text would reappear
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        if self._showing is not None:
            self._message_id = await self._showing  # sent even if the view stopped meanwhile
        return True

    def _anew(self) -> bool:
        """The answer is a new message (which notifies), not the progress message edited: after a
        draft, and after a turn long enough for the user to look away."""
        return self._drafted or self._clock() - self._started >= LONG_TURN

    async def _deliver(self, md: str, *, into_progress: bool, reply_markup: Any = None) -> None:
        plan = await asyncio.to_thread(plan_reply, md)  # a huge reply takes a while to render; other chats go on
        messages = plan.messages or [Rendered(NO_TEXT, [])]
        last = messages[-1]
        if into_progress:
            await self._replace_progress(messages[0], reply_markup if last is messages[0] else None)
            messages = messages[1:]
        for part in messages:
            await self._outbox.send_rendered(self._key, part, reply_markup=reply_markup if part is last else None)
        if plan.document is not None:
            name, data = plan.document
            if await self._outbox.send_document(self._key, name, data) is None:
                # The file didn't make it; the words still must.
                for part in await asyncio.to_thread(render_markdown, md):
                    await self._outbox.send_rendered(self._key, part)

    async def _replace_progress(self, part: Rendered, reply_markup: Any = None) -> None:
        """Turn the progress message into ``part`` (Stop button replaced by ``reply_markup``), or (none
        shown; after a draft or a long turn) send ``part`` as a new message and remove the progress message."""
        if not self._anew() and self._message_id is not None and await self._outbox.edit_text_now(
            self._key, self._message_id, part.text, entities=part.entities, reply_markup=reply_markup
        ):
            return
        sent = await self._outbox.send_rendered(self._key, part, reply_markup=reply_markup, reply_to=self._reply_to)
        if sent is None:
            return
        if self._message_id is not None:
            self._outbox.delete(self._key, self._message_id)  # don't leave a "Working…" with a Stop button behind
        self._message_id = sent


def _one_line(line: str) -> str:
    return clip(" ".join(line.splitlines()), LINE_LIMIT)


def _tail(text: str, room: int) -> str:
    """The end of ``text`` in at most ``room`` code points, marked with a leading "…" when cut."""
    if text_len(text) <= room:
        return text
    return "…" + text[-(room - 1) :]
