"""A session's live turn state, owned by the scheduler and never persisted: a restart finds every session idle."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from bot.sessions.session import ClaudeSession, Turn


@dataclass(frozen=True)
class Activity:
    """What a session is doing now, for /status and /sessions."""

    running_since: float | None = None  # None: idle
    current_tool: str | None = None  # the last tool the running turn called (`Bash: ls`)
    queued: int = 0


@dataclass(eq=False)
class LiveTurns:
    session: ClaudeSession
    queue: deque[Turn] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None
    turn: Turn | None = None  # the running turn
    running_since: float | None = None
    current_tool: str | None = None
    stop_requested: bool = False  # the one record of a stop: the outcome of a stopped turn says "stopped"
    absorbed: set[int] = field(default_factory=set)  # ids of turns merged into a batch before their queue notice was out

    @property
    def is_running(self) -> bool:
        return self.running_since is not None

    @property
    def busy(self) -> bool:
        return self.is_running or bool(self.queue)

    def activity(self) -> Activity:
        return Activity(self.running_since, self.current_tool, len(self.queue))
