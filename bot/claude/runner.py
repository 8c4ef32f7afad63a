"""Running Claude Code turns: claude-agent-sdk clients kept warm for recently active sessions.

Spawning the CLI costs about half a second and each live CLI holds a few hundred MB, so
the runner keeps a connected `ClaudeSDKClient` for at most `max_live` sessions, closes
the least recently used one first and any idle longer than `idle_seconds`. A closed
client reconnects with `resume=` the next time, so the conversation never depends on
a process staying alive. Clients being started or shut down count against the cap too:
their CLI process exists, and the cap bounds processes (memory), not dictionary entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.claude.desk import DeskWatch, Seen, Writer
from bot.claude.events import Conversation, DeskBusy, TurnEvent, TurnOutcome
from bot.claude.failures import start_failure_sentence
from bot.claude.framing import Prompt, sdk_prompt
from bot.sessions.session import ClaudeSession, Turn

if TYPE_CHECKING:
    from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient

log = logging.getLogger(__name__)

# Claude Code's own settings, chosen rather than left to the CLI's default (the same three today):
# "user" is the operator's set-up in Claude Code's home (an apiKeyHelper login among it, see
# bot/claude/credentials.py); "project" and "local" are what makes Claude Code a coding agent in a
# repository (CLAUDE.md, .claude/commands, skills, agents, permission rules) and what the bot's
# Claude Code commands expand. A workspace's settings can also hold hooks, which run commands with
# no approval: they run inside the CLI's confinement (bot/claude/launcher.py), never as the bot.
SETTING_SOURCES = ["user", "project", "local"]

# How the bot's CLIs mark the sessions they write. The SDK's default, "sdk-py", hides them from the desk's
# `claude --resume` picker (Claude Code 2.1.3xx lists no session whose first entry has an sdk-* entrypoint);
# a name of the bot's own is shown like a terminal's, and the CLI treats it as a programmatic caller.
ENTRYPOINT = "tg-claude-code"

EventSink = Callable[[TurnEvent], None]  # told each event of a running turn, as it happens
Gate = Callable[[], AbstractAsyncContextManager[None]]  # entered once the turn's CLI is up, held while Claude works


@dataclass
class _Live:
    client: ClaudeSDKClient
    fingerprint: tuple[Any, ...]
    session_id: str | None
    last_used: float = field(default_factory=time.monotonic)
    busy: bool = False
    seen: Seen | None = None  # how far its conversation's transcript went after its last turn (bot/claude/desk.py)


OptionsFactory = Callable[[ClaudeSession, Turn], dict[str, Any]]

_DIED = "Claude Code stopped unexpectedly during this turn; send your message again to retry."


class _ExitedWhileIdle(Exception):
    """The client's CLI was gone before the turn's prompt could be sent to it."""


class ClaudeRunner:
    def __init__(
        self,
        *,
        base_options: Callable[[], dict[str, Any]],
        extra_options: OptionsFactory | None = None,
        max_live: int = 8,
        idle_seconds: float = 600.0,
        stderr_tail: Callable[[], str] | None = None,
        max_starting: int = os.cpu_count() or 2,
        client: Callable[[ClaudeAgentOptions], ClaudeSDKClient] | None = None,
        desk: DeskWatch | None = None,
    ) -> None:
        """``client``: makes the SDK client for a CLI (ClaudeSDKClient; tests pass a fake). ``desk``: who else
        writes a conversation (Claude Code at the desk); None: nobody is looked for."""
        self._client = client
        self._desk = desk
        self._stderr_tail = stderr_tail  # the CLI's recent stderr, for the log of a failed start
        self._base_options = base_options
        self._extra_options = extra_options
        self.max_live = max_live
        self.idle_seconds = idle_seconds
        self._live: dict[str, _Live] = {}
        # The client that last drove each conversation: any other client holding it is stale
        # (its CLI remembers the conversation as it was before), so it never writes to it again.
        self._writer: dict[str, _Live] = {}
        self._connecting: set[str] = set()  # sessions whose turn is not asked yet (its client starts, or the gate)
        self._stop_pending: set[str] = set()  # ...and was stopped meanwhile
        self._starting = 0  # clients connecting: not in _live yet, but their CLI runs
        # Starting a CLI keeps a core busy for about half a second: more at once than cores only
        # slows every one of them (and the warm turns beside them) down.
        self._start_permits = asyncio.Semaphore(max(1, max_starting))
        self._closing: set[asyncio.Task[None]] = set()  # disconnects in progress
        self._slots = asyncio.Condition()
        self._reaper: asyncio.Task[None] | None = None
        self._warming: dict[str, asyncio.Task[None]] = {}  # pre-starts in progress, by session name

    @property
    def live_count(self) -> int:
        return len(self._live)

    def start(self) -> None:
        self._reaper = asyncio.create_task(self._reap_idle(), name="claude-idle-reaper")

    @staticmethod
    async def preload() -> None:
        """Import claude-agent-sdk (with mcp, about half a second) in a worker thread. Nothing before
        polling needs it, so the bot starts without it; this keeps a first turn from importing it
        in the event loop."""
        await asyncio.to_thread(importlib.import_module, "claude_agent_sdk")

    async def close_all(self) -> None:
        if self._reaper:
            self._reaper.cancel()
        await asyncio.gather(*self._warming.values(), return_exceptions=True)
        for name in list(self._live):
            self._discard(name)
        await asyncio.gather(*self._closing, return_exceptions=True)

    def _processes(self) -> int:
        return len(self._live) + self._starting + len(self._closing)

    def _options(self, session: ClaudeSession, turn: Turn) -> ClaudeAgentOptions:
        record = session.record
        options = self._base_options()
        options["env"] = {"CLAUDE_CODE_ENTRYPOINT": ENTRYPOINT, **options.get("env", {})}
        options.update(
            cwd=record.working_dir,
            resume=record.session_id,
            include_partial_messages=True,
            setting_sources=list(SETTING_SOURCES),
        )
        if record.permission_mode:
            options["permission_mode"] = record.permission_mode
        if record.model:
            options["model"] = record.model
        if self._extra_options is not None:
            options.update(self._extra_options(session, turn))
        from claude_agent_sdk import ClaudeAgentOptions

        return ClaudeAgentOptions(**options)

    @staticmethod
    def _fingerprint(session: ClaudeSession) -> tuple[Any, ...]:
        record = session.record
        return (record.working_dir, record.permission_mode, record.model)

    async def warm(self, session: ClaudeSession, turn: Turn) -> bool:
        """Start the session's CLI before its first turn (after a restart), only into a free place:
        it never closes another chat's client and never waits; a turn arriving meanwhile uses it."""
        if session.name in self._live or session.name in self._warming or self._processes() >= self.max_live:
            return False
        if any(live.session_id == session.session_id for live in self._live.values() if session.session_id):
            return False  # another chat's process holds this conversation
        self._starting += 1

        async def start() -> None:
            try:
                await self._connect(session, turn)
            except Exception as exc:  # only a head start: the turn starts its own CLI and reports
                log.warning("pre-starting Claude Code for %s failed: %s", session.name, exc)
            finally:
                self._starting -= 1
                self._warming.pop(session.name, None)
                async with self._slots:
                    self._slots.notify_all()

        task = asyncio.create_task(start(), name=f"claude-warm-{session.name}")
        self._warming[session.name] = task
        await asyncio.shield(task)
        return session.name in self._live

    async def _client_for(self, session: ClaudeSession, turn: Turn) -> _Live:
        if (warming := self._warming.get(session.name)) is not None:
            await asyncio.shield(warming)  # its CLI is nearly up: use it rather than start a second one
        live = self._live.get(session.name)
        fingerprint = self._fingerprint(session)
        conversation = session.session_id
        if live is not None and (
            live.fingerprint != fingerprint
            or live.session_id != conversation
            or (conversation is not None and self._writer.get(conversation, live) is not live)
        ):
            # /cd, /new, /resume, /mode or /model changed what the CLI was started with, or
            # another client (a link's, another chat's) has written to the conversation since.
            self._discard(session.name)
            live = None
        if live is not None and live.seen is not None and self._desk is not None:
            continued, live.seen = await self._desk.continued(live.seen)
            if continued:  # at the desk: a fresh CLI resumes the transcript as it now stands, chaining onto it
                log.info("the conversation of %s was continued elsewhere; resuming it from its transcript", session.name)
                self._discard(session.name)
                live = None
        if live is None:
            if conversation is not None:
                # One process per conversation: whoever else holds it is closed before it is resumed.
                for name in [n for n, other in self._live.items() if other.session_id == conversation]:
                    await self._close(name)
            await self._make_room()
            try:
                live = await self._connect(session, turn)
            finally:
                self._starting -= 1
                if live is None:  # the place reserved for it is free again
                    async with self._slots:
                        self._slots.notify_all()
        live.busy = True
        live.last_used = time.monotonic()
        return live

    def _new_client(self, options: ClaudeAgentOptions) -> ClaudeSDKClient:
        if self._client is not None:
            return self._client(options)
        from claude_agent_sdk import ClaudeSDKClient

        return ClaudeSDKClient(options)

    async def _connect(self, session: ClaudeSession, turn: Turn) -> _Live:
        """Start the session's CLI (its place already reserved in `_starting`) and keep its client."""
        client = self._new_client(self._options(session, turn))
        # Taken before the CLI reads the transcript: whatever is written after it counts as new.
        seen = await self._desk.seen(session.session_id, str(session.working_dir)) if self._desk and session.session_id else None
        async with self._start_permits:
            await client.connect()  # on failure it shuts its CLI down itself
        live = _Live(client=client, fingerprint=self._fingerprint(session), session_id=session.session_id, seen=seen)
        self._live[session.name] = live
        if live.session_id is not None:
            self._writer[live.session_id] = live  # it resumed the conversation as it is now
        return live

    async def _make_room(self) -> None:
        """Reserve a place for one more CLI, closing least recently used idle clients until it fits."""
        async with self._slots:
            while self._processes() >= self.max_live:
                idle = [(live.last_used, name) for name, live in self._live.items() if not live.busy]
                if idle:
                    self._discard(min(idle)[1])
                await self._slots.wait()  # a disconnect or a finished turn frees a place
            self._starting += 1

    async def _release(self, live: _Live) -> None:
        live.busy = False
        live.last_used = time.monotonic()
        async with self._slots:
            self._slots.notify_all()

    def _discard(self, name: str) -> asyncio.Task[None] | None:
        """Forget the session's client at once and shut its CLI down in the background."""
        live = self._live.pop(name, None)
        if live is None:
            return None
        if live.session_id is not None and self._writer.get(live.session_id) is live:
            del self._writer[live.session_id]
        task = asyncio.create_task(self._disconnect(live), name=f"claude-close-{name}")
        self._closing.add(task)
        return task

    async def _disconnect(self, live: _Live) -> None:
        try:
            # The SDK bounds its own shutdown (stdin EOF, then SIGTERM, then SIGKILL: ~15 s at
            # worst); cancelling it earlier could leave the CLI running.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(live.client.disconnect(), timeout=30)
        finally:
            self._closing.discard(asyncio.current_task())  # type: ignore[arg-type]
            async with self._slots:
                self._slots.notify_all()

    async def _close(self, name: str) -> None:
        task = self._discard(name)
        if task is not None:
            await asyncio.shield(task)

    async def close_session(self, session: ClaudeSession) -> None:
        await self._close(session.name)

    async def _reap_idle(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, max(self.idle_seconds / 4, 0.5)))
            now = time.monotonic()
            for name, live in list(self._live.items()):
                if not live.busy and now - live.last_used > self.idle_seconds:
                    self._discard(name)

    async def interrupt(self, session: ClaudeSession) -> bool:
        if session.name in self._connecting:  # nothing asked yet (its CLI starts, or it waits at the gate): it is not asked
            self._stop_pending.add(session.name)
            return True
        live = self._live.get(session.name)
        if live is None or not live.busy:
            return False
        try:
            await asyncio.wait_for(live.client.interrupt(), timeout=10)
        except Exception as exc:  # a dead CLI: closing it ends the turn as well
            log.warning("interrupt of %s failed (%s); closing its client", session.name, exc)
            await self._close(session.name)
        return True

    async def run(
        self,
        session: ClaudeSession,
        turn: Turn,
        prompt: Prompt,
        report: EventSink,
        gate: Gate = contextlib.nullcontext,
    ) -> TurnOutcome:
        """Run one turn to its end. Never raises for Claude-side failures: they come back as `error`.

        ``gate`` (the scheduler's slot) is entered only once the CLI is up, so a turn whose CLI
        starts holds no slot meanwhile and warm turns are not kept waiting behind it.
        """
        self._stop_pending.discard(session.name)
        try:
            return await self._run_once(session, turn, prompt, report, gate)
        except _ExitedWhileIdle as exc:
            log.warning("Claude Code for %s had exited while idle (%s)", session.name, exc)
        # Nothing reached the dead CLI, so a fresh one (resuming the conversation) takes the turn.
        try:
            return await self._run_once(session, turn, prompt, report, gate)
        except _ExitedWhileIdle:
            return TurnOutcome(error=_DIED)

    async def _run_once(
        self, session: ClaudeSession, turn: Turn, prompt: Prompt, report: EventSink, gate: Gate
    ) -> TurnOutcome:
        from claude_agent_sdk import ClaudeSDKError, CLIConnectionError

        self._connecting.add(session.name)  # until the prompt is sent, a stop means "do not ask"
        try:
            await self._wait_for_desk(session, report)
            try:
                live = await self._client_for(session, turn)
            except ClaudeSDKError as exc:
                stderr = self._stderr_tail() if self._stderr_tail else ""
                log.error("could not start Claude Code for %s: %s\nits stderr:\n%s", session.name, exc, stderr or "(empty)")
                return TurnOutcome(error=start_failure_sentence(stderr))
            try:
                async with gate():
                    self._connecting.discard(session.name)
                    if session.name in self._stop_pending:  # stopped before it was asked: nothing is asked
                        self._stop_pending.discard(session.name)
                        return TurnOutcome(session_id=live.session_id, finished=True)
                    try:
                        await live.client.query(sdk_prompt(prompt))
                    except CLIConnectionError as exc:
                        raise _ExitedWhileIdle(str(exc)) from exc
                    outcome = await self._converse(live, report)
            except _ExitedWhileIdle:
                self._discard(session.name)
                raise
            except (ClaudeSDKError, OSError) as exc:
                log.error("Claude Code died during a turn of %s: %s", session.name, exc)
                self._discard(session.name)
                return TurnOutcome(error=_DIED)
            except asyncio.CancelledError:
                self._discard(session.name)
                raise
            finally:
                if self._live.get(session.name) is live:
                    await self._release(live)
        finally:
            self._connecting.discard(session.name)
        if not outcome.finished and not outcome.error and self._live.get(session.name) is live:
            # The CLI's output ended without a result although nobody closed it: it exited mid-turn.
            log.error("Claude Code for %s exited during a turn without a result", session.name)
            outcome.error = _DIED
        if outcome.session_id:
            if live.session_id != outcome.session_id and self._writer.get(live.session_id or "") is live:
                del self._writer[live.session_id or ""]
            live.session_id = outcome.session_id
            self._writer[outcome.session_id] = live
            if self._desk is not None:
                live.seen = await self._desk.seen(outcome.session_id, str(session.working_dir))
        if outcome.error:
            # Start the next turn from a fresh process: the CLI may be in a bad state.
            self._discard(session.name)
        return outcome

    async def _wait_for_desk(self, session: ClaudeSession, report: EventSink) -> None:
        """One writer per conversation: while another process (the desk) is mid-turn in it, this turn waits,
        and says so; it goes on when that turn ends (or when it is stopped: then nothing is asked)."""
        if self._desk is None or not session.session_id:
            return
        conversation = session.session_id
        writer = await self._desk.writing(conversation)
        if writer is None:
            return
        # A CLI of the bot's own mark that is not its child is the one a killed bot left: it ends with its
        # turn (SIGTERM from the launcher), and is waited for without a word about a desk.
        desk = writer.entrypoint != ENTRYPOINT
        log.info("the conversation of %s is busy elsewhere (%s); its turn waits", session.name, "the desk" if desk else "a CLI of the bot before its restart")
        if desk:
            report(DeskBusy(True))
        while session.name not in self._stop_pending and await self._desk.writing(conversation) is not None:
            await asyncio.sleep(self._desk.poll_seconds)
        await self._desk.settled(conversation, str(session.working_dir))
        if desk:
            report(DeskBusy(False))

    async def elsewhere(self, session: ClaudeSession) -> list[Writer]:
        """The Claude Code processes at the desk that hold this session's conversation now (not a killed bot's)."""
        if self._desk is None or not session.session_id:
            return []
        return [w for w in await self._desk.holders(session.session_id) if w.entrypoint != ENTRYPOINT]

    async def _converse(self, live: _Live, report: EventSink) -> TurnOutcome:
        conversation = Conversation()
        async for message in live.client.receive_response():
            for event in conversation.feed(message):
                report(event)
        return conversation.outcome()
