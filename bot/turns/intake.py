"""The front door: every message that may become a Claude turn comes in here, and only here.

A chat platform translates what a person sent into an `Incoming` message (plain values: chat
key, message id, sender, text, quote, the journal entry it was recorded under) and hands it to
`Intake` together with any attachment. The intake owns the rest: finding the chat's session,
gathering the parts of a paste or an album into one turn, the daily budget, and submitting to
the scheduler. Nothing else submits a turn (tests/unit/test_layers.py), so every way in (text,
a Claude Code slash command, an upload, a voice note, an edit, a resend) obeys the same rules.

Taking a place in a paste or an album (`arrive_text`, `arrive_file`) is synchronous and must
happen before the caller's first await: messages keep the order Telegram delivered them in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from bot.chat import ChatOutbox, TurnsView
from bot.errors import Refused
from bot.features import claude_commands
from bot.features.files import FileTransfers, Upload
from bot.features.usage import Usage
from bot.features.voice import Recording, VoiceNotes
from bot.sessions.inbox import Accepted, Inbox
from bot.sessions.keys import ChatKey
from bot.sessions.manager import SessionManager
from bot.sessions.session import ClaudeSession, Turn
from bot.turns.addressing import forwarded, with_quote
from bot.turns.gather import PASTE_PART, WINDOW, Gatherer, Slot

log = logging.getLogger(__name__)

EMPTY = "That message is empty; send some text for Claude."
UNKNOWN_COMMAND = "Unknown command {shown}. /help lists the commands."


@dataclass(frozen=True)
class Quote:
    """The message an incoming one replies to: its text (or the part quoted) and who wrote it."""

    text: str
    message_id: int
    author: str = ""  # a display name; empty when unknown
    from_bot: bool = False  # one of the bot's own messages (named to Claude by its id alone)


@dataclass(frozen=True)
class Incoming:
    """A message as the core sees it, whatever platform it came from."""

    key: ChatKey
    message_id: int
    user_id: int | None  # None: sent on behalf of a channel or an anonymous admin
    user_name: str = ""
    chat_title: str = ""
    text: str = ""  # what the person wrote, the bot's own @mention removed
    quote: Quote | None = None
    forwarded_from: str | None = None  # a forward: who wrote it first (their words are data)
    accepted: Accepted | None = None  # its journal entry (bot.sessions.inbox)

    def prompt(self) -> str:
        """What Claude reads for this message's text (labelled data where someone else wrote it), after a short
        quote of the message it replies to."""
        text = forwarded(self.text, self.forwarded_from) if self.text and self.forwarded_from is not None else self.text
        quote = self.quote
        if not text or quote is None or not quote.text:
            return text
        return with_quote(text, quote.text, message_id=quote.message_id, author=quote.author, from_bot=quote.from_bot)

    def turn(self, prompt: str | None = None) -> Turn:
        """A turn answered in reply to this message; an edit journaled meanwhile wins over ``prompt``."""
        accepted = self.accepted
        edited = accepted.prompt if accepted is not None else None
        return Turn(
            key=self.key,
            prompt=edited if edited is not None else (self.prompt() if prompt is None else prompt),
            reply_to=self.message_id,
            user_id=self.user_id,
            user_name=self.user_name,
            chat_title=self.chat_title,
            queued_message_id=accepted.notice_id if accepted else None,
            inbox=[accepted] if accepted else [],
        )


@dataclass(frozen=True)
class Place:
    """A message's place in a paste or an album being gathered; `slot` None: it goes to Claude alone."""

    slot: Slot | None


class Submits(Protocol):
    """What the intake needs of bot.turns.scheduler.TurnScheduler."""

    async def submit(self, session: ClaudeSession, turn: Turn) -> None: ...

    def edit_queued(self, session: ClaudeSession, key: ChatKey, message_id: int, prompt: str) -> bool: ...


@dataclass
class Intake:
    manager: SessionManager
    scheduler: Submits
    usage: Usage
    outbox: ChatOutbox
    view: TurnsView
    files: FileTransfers
    voice: VoiceNotes
    inbox: Inbox | None = None
    gather_window: float = WINDOW  # seconds of silence that end a paste or an album
    gather: Gatherer = field(init=False)

    def __post_init__(self) -> None:
        self.gather = Gatherer(self._submit_said, self.view.joined, window=self.gather_window)

    # -- a place in a paste or an album (synchronous: call before any await) ---------------

    def arrive_text(self, key: ChatKey, user_id: int | None, message_id: int, text: str) -> Place:
        """A part of a long paste (or a message right after one) waits briefly for the rest."""
        starts = len(text) >= PASTE_PART
        return Place(self.gather.hold(key, user_id, starts_group=starts, message_id=message_id))

    def arrive_file(self, key: ChatKey, user_id: int | None, message_id: int, *, album: bool) -> Place:
        """An album's files wait for each other (one turn); a lone file right after a paste joins it."""
        return Place(self.gather.hold(key, user_id, starts_group=album, apart=not album, message_id=message_id))

    # -- the ways in ----------------------------------------------------------------------

    async def text(self, place: Place, message: Incoming) -> None:
        turn = message.turn()
        if not turn.prompt:
            self._release(place)  # answered here
            await self.outbox.send_text(message.key, EMPTY, reply_to=message.message_id)
            return
        if place.slot is not None:
            self.gather.fill(place.slot, turn)  # the gathered turn is checked and submitted when the paste ends
            return
        await self._submit(turn)

    async def command(self, message: Incoming, *, bot_username: str) -> None:
        """A command the bot does not define goes to Claude Code when Claude Code knows it (sent exactly as typed)."""
        name, mention, args = claude_commands.parse(message.text)
        session = await self.manager.for_chat(message.key, message.chat_title)
        for_us = not mention or mention.lower() == bot_username.lower()
        if name and for_us and claude_commands.find(session, name) is not None:
            turn = message.turn(f"/{name} {args}".rstrip())
            turn.command = True
            await self._submit(turn, session)
            return
        shown = message.text.split()[0][:64] if message.text.split() else "/"
        await self.outbox.send_text(message.key, UNKNOWN_COMMAND.format(shown=shown), reply_to=message.message_id)

    async def upload(self, place: Place, message: Incoming, upload: Upload) -> None:
        """A document or photo: saved in the chat's directory, then a turn (the caption is its prompt)."""
        try:
            session = await self.manager.for_chat(message.key, message.chat_title)
            await self.usage.check(session)  # the upload would start a turn: refuse before downloading
        except Refused:
            self._release(place)  # answered by the refusal
            raise
        ready: Turn | None = None
        try:
            ready = await self.files.receive(message.turn(), upload)
        finally:
            if place.slot is not None:
                self.gather.fill(place.slot, ready)
        if ready is not None and place.slot is None:
            await self.scheduler.submit(session, ready)

    async def voice_note(self, message: Incoming, recording: Recording) -> None:
        """A voice note or audio file: its transcript (after the caption, if any) is the prompt."""
        turn = await self.voice.transcribe(message.turn(), recording)
        if turn is not None:
            await self._submit_said(turn)

    async def edit(self, message: Incoming) -> bool:
        """The message was edited: True when it had not reached Claude yet (Claude gets the edited text)."""
        prompt = message.prompt()
        if not prompt:
            return False
        held = self.gather.edit(message.key, message.user_id, message.message_id, prompt)
        if held is not None:
            if held.turn is not None and held.turn.inbox and self.inbox is not None:
                await self.inbox.note(held.turn.inbox[0], "prompt", prompt)  # a restart gathers the edited text
            return True
        session = await self.manager.for_chat(message.key, message.chat_title)
        return self.scheduler.edit_queued(session, message.key, message.message_id, prompt)

    async def resend(self, message: Incoming, *, by: int) -> None:
        """An edited message Claude already had, sent anew as a new turn by whoever pressed the button."""
        turn = message.turn()
        turn.user_id = by
        await self._submit(turn)

    async def flush(self) -> None:
        """Shutdown: every paste or album still gathering is submitted (and so kept in the inbox)."""
        await self.gather.flush()

    # -- submitting -----------------------------------------------------------------------

    async def _submit(self, turn: Turn, session: ClaudeSession | None = None) -> None:
        """Queue a Claude turn unless a daily budget is used up (BudgetSpent, said by the caller)."""
        session = session or await self.manager.for_chat(turn.key, turn.chat_title)
        await self.usage.check(session)
        await self.scheduler.submit(session, turn)

    async def _submit_said(self, turn: Turn) -> None:
        """As `_submit`, where no update is left to attach a refusal to: the refusal is said here."""
        try:
            await self._submit(turn)
        except Refused as refusal:
            await self.outbox.send_text(turn.key, str(refusal), reply_to=turn.reply_to)

    def _release(self, place: Place) -> None:
        if place.slot is not None:
            self.gather.fill(place.slot, None)
