"""A session's live turn state, owned by the scheduler and never persisted: a restart finds every session idle."""

from __future__ import annotations

import asyncio
from collections import deque
import time
from dataclasses import dataclass, field

from bot.chat import LiveReply
from bot.sessions.session import ClaudeSession, Turn


@dataclass(frozen=True)
class Activity:
    """What a session is doing now, for /status and /sessions."""

    running_since: float | None = None  # None: idle
    current_tool: str | None = None  # the last tool the running turn called (`Bash: ls`)
    queued: int = 0
    recovered: int = 0  # of the running and queued turns: carried on from before the last restart


@dataclass(eq=False)
class LiveTurns:
    session: ClaudeSession
    queue: deque[Turn] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None
    turn: Turn | None = None  # the running turn
    reply: LiveReply | None = None  # the running turn's reply while Claude works on it
    running_since: float | None = None
    current_tool: str | None = None
    stop_requested: bool = False  # the one record of a stop: the outcome of a stopped turn says "stopped"
    absorbed: set[int] = field(default_factory=set)  # ids of turns merged into a batch before their queue notice was out
    announcing: set[int] = field(default_factory=set)  # ids of queued turns whose queue notice is on its way
    cut_short: bool = False  # interrupted by the bot's shutdown: carried on after the next start
    answered: bool = False  # Claude has finished the running turn; its answer is only being shown and settled

    def starting(self, turn: Turn) -> None:
        """`turn` is this session's next turn from now on, even while it waits for a slot or its CLI."""
        if self.turn is turn:
            return
        if self.turn is not None and any(part is self.turn for part in turn.merged):
            self.turn = turn  # the starting turn, now with the messages that waited behind it: a /stop holds
            return
        self.turn, self.running_since, self.current_tool = turn, time.time(), None
        self.stop_requested = self.cut_short = self.answered = False

    @property
    def is_running(self) -> bool:
        return self.running_since is not None

    @property
    def next_starts_now(self) -> bool:
        """A message queued now is the next turn and starts in a moment: it needs no queue notice."""
        return self.answered and not self.queue

    @property
    def busy(self) -> bool:
        return self.is_running or bool(self.queue)

    def activity(self) -> Activity:
        turns = list(self.queue)
        if self.turn is not None and all(queued is not self.turn for queued in turns):  # a starting turn is still queued
            turns.append(self.turn)
        recovered = sum(1 for turn in turns if any(accepted.recovered for accepted in turn.inbox))
        running_since = None if self.answered else self.running_since
        return Activity(running_since, self.current_tool, len(self.queue), recovered)
