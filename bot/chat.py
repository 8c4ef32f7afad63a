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
    from bot.claude.approvals import ApprovalRequest, Resolution


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

    async def finish(self, text: str, *, changed: ChangeRef | None = None) -> None:
        """The answer; ``changed``: what the turn changed in a git work tree (shown with a way to see the diff)."""
        ...

    async def stopped(self, partial: str, *, restarting: bool, changed: ChangeRef | None = None) -> None:
        """The turn was stopped (by the user, or because the bot is shutting down)."""
        ...

    async def fail(self, sentence: str, partial: str) -> None: ...


class TurnsView(Protocol):
    """How the scheduler shows turns: queue notices (each returns its message id) and live replies."""

    def live_reply(self, turn: Turn, session_name: str, on_shown: Callable[[int], None]) -> LiveReply:
        """``on_shown`` is told the progress message's id once it is in the chat (crash recovery)."""
        ...

    async def queued(self, turn: Turn, position: int) -> int | None:
        """The turn waits behind others; the notice offers to cancel it or run it now."""
        ...

    async def waiting_for_slot(self, turn: Turn, running: int, limit: int) -> int | None: ...

    def merged(self, turn: Turn) -> None:
        """The queued turn went to Claude together with the one before it; that one's answer is its answer."""
        ...

    def edited(self, turn: Turn) -> None:
        """The queued turn's message was edited: Claude will get the edited text."""
        ...

    def cancelled(self, turn: Turn) -> None: ...

    async def not_run(self, turn: Turn) -> None:
        """The bot is shutting down before the turn ran."""
        ...

    def drop_notice(self, turn: Turn) -> None: ...

    async def failed(self, turn: Turn) -> None:
        """The bot itself failed while answering (a Claude-side failure is a LiveReply.fail)."""
        ...

    def interrupted_by_crash(self, key: ChatKey, message_id: int) -> None:
        """After a crash: the progress message of a turn that never finished."""
        ...


class RequestsView(Protocol):
    """How Claude's permission requests, questions and plans are shown in the request's chat, with their choices."""

    async def show_request(self, request: ApprovalRequest) -> int | None:
        """The request and its choices; returns the message id (None: it could not be shown)."""
        ...

    def update_request(self, request: ApprovalRequest) -> None:
        """A question moved on, or the options picked so far changed."""
        ...

    def resolve_request(self, request: ApprovalRequest, how: Resolution, reason: str = "") -> None:
        """What was decided (``reason``: the user's own words, if any); the choices go away."""
        ...
