"""How the core reaches a chat: small protocols that bot/telegram/ implements.

The core (sessions, claude, turns, features) never imports aiogram or bot.telegram; it is
handed objects that satisfy these protocols by the composition root (bot/app.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef
from bot.sessions.session import Turn

if TYPE_CHECKING:
    from bot.claude.requests import ApprovalRequest, Resolution


class ChatOutbox(Protocol):
    """Paced plain sends to one chat (and topic); HTML only where the caller escaped every value."""

    async def send_text(
        self, key: ChatKey, text: str, *, parse_mode: str | None = None, reply_to: int | None = None
    ) -> int | None: ...

    def edit_text(self, key: ChatKey, message_id: int, text: str, *, parse_mode: str | None = None) -> None: ...

    def delete(self, key: ChatKey, message_id: int) -> None: ...

    async def send_document(
        self, key: ChatKey, filename: str, data: bytes, *, caption: str | None = None, reply_to: int | None = None
    ) -> int | None: ...


class LiveReply(Protocol):
    """One turn's reply as it happens: progress while Claude works, then the answer (or why there is none)."""

    async def start(self) -> None: ...

    def text(self, delta: str) -> None: ...

    def tool_started(self, description: str) -> None:
        """Claude calls a tool (`Bash: ls`)."""
        ...

    def retrying(self, sentence: str) -> None:
        """Claude Code retries a failed API request; `sentence` says why (shown until the next step)."""
        ...

    def waiting_for_answer(self, what: str | None) -> None:
        """A request of this turn waits for the user (``what``: what it is about, e.g. `Bash: ls`), or
        (None) none does any more: nothing runs meanwhile."""
        ...

    def waiting_for_slot(self, running: int | None, limit: int) -> None:
        """The turn waits until fewer than ``limit`` turns run (``running`` now); None: it no longer waits."""
        ...

    def waiting_for_desk(self, busy: bool) -> None:
        """The conversation is busy at the desk (another Claude Code is mid-turn in it): this turn waits for it,
        or (False) no longer."""
        ...

    def refresh(self) -> None:
        """Show the elapsed time now (as /status does), not at the next tick."""
        ...

    async def finish(self, text: str, *, changed: ChangeRef | None = None) -> None:
        """The answer; ``changed``: what the turn changed in a git work tree (shown with a way to see the diff)."""
        ...

    async def stopped(self, partial: str, *, changed: ChangeRef | None = None) -> None:
        """The user stopped the turn."""
        ...

    async def fail(self, sentence: str, partial: str) -> None: ...

    async def interrupted(self) -> None:
        """The bot is shutting down mid-turn: the turn goes on after the next start."""
        ...


class TurnsView(Protocol):
    """How the scheduler shows turns: queue notices (each returns its message id) and live replies."""

    def live_reply(
        self, turn: Turn, session_name: str, on_shown: Callable[[int], None], *, resumed_in: int | None = None
    ) -> LiveReply:
        """``on_shown`` is told the progress message's id once it is in the chat; ``resumed_in``: the
        progress message of the same turn before a restart, which the carried-on turn continues in."""
        ...

    async def queued(self, turn: Turn, position: int) -> int | None:
        """The turn waits behind others; the notice (its existing one, after a restart) offers to
        cancel it or run it now."""
        ...

    async def queue_full(self, turn: Turn, limit: int) -> None:
        """`limit` turns already wait in the session, so this one was not queued."""
        ...

    def merged(self, turn: Turn) -> None:
        """The queued turn went to Claude together with the one before it; that one's answer is its answer."""
        ...

    async def joined(self, turn: Turn) -> None:
        """A message of its own (a file) went to Claude with the paste or album before it: one answer for both."""
        ...

    def edited(self, turn: Turn) -> None:
        """The queued turn's message was edited: Claude will get the edited text."""
        ...

    async def cancelled(self, turn: Turn) -> None:
        """The queued turn will not go to Claude: its notice says so, or (it had none) a reply to its message."""
        ...

    def after_restart(self, turn: Turn) -> None:
        """The bot is shutting down before the turn ran: it runs after the next start."""
        ...

    async def gave_up(self, turn: Turn, progress_id: int | None) -> None:
        """The turn was cut short by restarts too often to try again."""
        ...

    def drop_notice(self, turn: Turn) -> None: ...

    async def failed(self, turn: Turn) -> None:
        """The bot itself failed while answering (a Claude-side failure is a LiveReply.fail)."""
        ...


class RequestsView(Protocol):
    """How Claude's permission requests, questions and plans are shown in the request's chat, with their choices."""

    async def show_request(self, request: ApprovalRequest) -> int | None:
        """The request and its choices; returns the message id (None: it could not be shown)."""
        ...

    async def attach_input(self, request: ApprovalRequest, text: str) -> None:
        """The whole input of a request shown cut (``request.fits`` is false), next to the request."""
        ...

    def update_request(self, request: ApprovalRequest) -> None:
        """A question moved on, or the options picked so far changed."""
        ...

    def resolve_request(self, request: ApprovalRequest, how: Resolution, reason: str = "") -> None:
        """What was decided (``reason``: the user's own words, if any); the choices go away."""
        ...
