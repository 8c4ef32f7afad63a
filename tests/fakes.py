"""Fakes for driving the core without Telegram or Claude: a scripted runner and a chat view that records."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.claude.events import TurnEvent, TurnOutcome
from bot.claude.framing import Prompt
from bot.claude.runner import Gate
from bot.sessions.records import ChangeRef
from bot.sessions.session import ClaudeSession, Turn


@dataclass
class Script:
    """What the runner does for one prompt: report `events`, wait for `gate` (if any), then end."""

    events: list[TurnEvent] = field(default_factory=list)
    outcome: TurnOutcome = field(default_factory=TurnOutcome)
    gate: asyncio.Event | None = None
    raises: Exception | None = None


class ScriptedRunner:
    """Stands in for ClaudeRunner: each turn follows the script of its prompt (default: answer at once)."""

    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}
        self.started: list[str] = []  # prompts, in the order their turns reached the runner
        self.interrupted: list[str] = []  # prompts of the turns interrupt() stopped
        self.running: dict[str, str] = {}  # session name -> prompt of its turn running now
        self.peak = 0
        self.at_gate: set[str] = set()  # sessions whose turn waits for its gate (the scheduler's slot)
        self.stopped_at_gate: set[str] = set()
        self.images: dict[str, list[tuple[str, bytes]]] = {}  # prompt text -> the images sent with it

    def gated(self, prompt: str, *events: TurnEvent, text: str = "") -> asyncio.Event:
        """Script `prompt` to report `events`, then hold until the returned gate opens (or it is interrupted)."""
        gate = asyncio.Event()
        self.scripts[prompt] = Script(list(events), TurnOutcome(text=text, finished=True), gate)
        return gate

    async def run(
        self,
        session: ClaudeSession,
        turn: Turn,
        prompt: Prompt,
        report: Callable[[TurnEvent], None],
        gate: Gate = contextlib.nullcontext,
    ) -> TurnOutcome:
        self.images[prompt.text] = list(prompt.images)
        self.at_gate.add(session.name)  # as ClaudeRunner: a stop before the gate opens means "do not ask"
        try:
            async with gate():
                self.at_gate.discard(session.name)
                if session.name in self.stopped_at_gate:
                    self.stopped_at_gate.discard(session.name)
                    return TurnOutcome(finished=True)
                return await self._play(session, prompt.text, report)
        finally:
            self.at_gate.discard(session.name)

    async def _play(self, session: ClaudeSession, prompt: str, report: Callable[[TurnEvent], None]) -> TurnOutcome:
        script = self.scripts.get(prompt) or Script(outcome=TurnOutcome(text=f"echo: {prompt}", finished=True))
        self.started.append(prompt)
        self.running[session.name] = prompt
        self.peak = max(self.peak, len(self.running))
        try:
            for event in script.events:
                report(event)
            if script.gate is not None:
                await script.gate.wait()
            if script.raises is not None:
                raise script.raises
            return script.outcome
        finally:
            del self.running[session.name]

    async def interrupt(self, session: ClaudeSession) -> bool:
        if session.name in self.at_gate:
            self.stopped_at_gate.add(session.name)
            return True
        prompt = self.running.get(session.name)
        if prompt is None:
            return False
        self.interrupted.append(prompt)
        gate = self.scripts[prompt].gate
        if gate is not None:
            gate.set()
        return True


class FakeReply:
    """A LiveReply that records what the chat would see."""

    def __init__(self, view: FakeTurnsView, turn: Turn) -> None:
        self.view = view
        self.turn = turn
        self.texts: list[str] = []
        self.tools: list[str] = []
        self.waiting: list[str | None] = []  # each waiting_for_answer call, in order
        self.refreshed = 0
        self.ending: tuple[Any, ...] | None = None
        self.resumed_in: int | None = None
        self.changed: ChangeRef | None = None  # what the turn changed in its work tree, as the reply was told

    async def start(self) -> None:
        self.view.shown.append(("started", self.turn.prompt))

    def text(self, delta: str) -> None:
        self.texts.append(delta)

    def tool_started(self, description: str) -> None:
        self.tools.append(description)

    def retrying(self, sentence: str) -> None:
        self.tools.append(sentence)

    def waiting_for_answer(self, what: str | None) -> None:
        self.waiting.append(what)

    def waiting_for_slot(self, running: int | None, limit: int) -> None:
        self.view.shown.append(("waiting", self.turn.prompt, running, limit))

    def waiting_for_desk(self, busy: bool) -> None:
        self.view.shown.append(("desk", self.turn.prompt, busy))

    def refresh(self) -> None:
        self.refreshed += 1

    async def finish(self, text: str, *, changed: ChangeRef | None = None) -> None:
        self.ending = ("finish", text)
        self.changed = changed

    async def stopped(self, partial: str, *, changed: ChangeRef | None = None) -> None:
        self.ending = ("stopped", partial)
        self.changed = changed

    async def fail(self, sentence: str, partial: str) -> None:
        self.ending = ("fail", sentence, partial)

    async def interrupted(self) -> None:
        self.ending = ("interrupted",)


class FakeTurnsView:
    """A TurnsView that records every notice by the turn's prompt; message ids count up from 100."""

    def __init__(self) -> None:
        self.shown: list[tuple[Any, ...]] = []
        self.replies: dict[str, FakeReply] = {}
        self._ids = 100

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def live_reply(
        self, turn: Turn, session_name: str, on_shown: Callable[[int], None], *, resumed_in: int | None = None
    ) -> FakeReply:
        reply = self.replies[turn.prompt] = FakeReply(self, turn)
        reply.resumed_in = resumed_in
        on_shown(self._next_id())  # as if the progress message was shown at once
        return reply

    async def queued(self, turn: Turn, position: int) -> int | None:
        self.shown.append(("queued", turn.prompt, position))
        return self._next_id()

    async def queue_full(self, turn: Turn, limit: int) -> None:
        self.shown.append(("queue full", turn.prompt, limit))

    def merged(self, turn: Turn) -> None:
        self.shown.append(("merged", turn.prompt))

    async def joined(self, turn: Turn) -> None:
        self.shown.append(("joined", turn.prompt))

    def edited(self, turn: Turn) -> None:
        self.shown.append(("edited", turn.prompt))

    async def cancelled(self, turn: Turn) -> None:
        self.shown.append(("cancelled", turn.prompt) if turn.queued_message_id else ("cancelled, answered", turn.prompt))

    def after_restart(self, turn: Turn) -> None:
        self.shown.append(("after restart", turn.prompt))

    async def gave_up(self, turn: Turn, progress_id: int | None) -> None:
        self.shown.append(("gave up", turn.prompt, progress_id))

    def drop_notice(self, turn: Turn) -> None:
        if turn.queued_message_id:
            self.shown.append(("dropped", turn.prompt))

    async def failed(self, turn: Turn) -> None:
        self.shown.append(("failed", turn.prompt))

