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
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    ClaudeSDKError,
    CLIConnectionError,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    TextBlock,
    ToolUseBlock,
)

from bot.sessions.session import ClaudeSession, Turn
from bot.claude.failures import api_error_sentence, start_failure_sentence
from bot.claude.tool_summary import describe_tool

log = logging.getLogger(__name__)


class TurnSink(Protocol):
    """What a running turn reports to the chat."""

    def append_text(self, delta: str) -> None: ...

    def set_status(self, line: str) -> None: ...


@dataclass
class TurnOutcome:
    text: str
    session_id: str | None = None
    result: ResultMessage | None = None
    interrupted: bool = False
    error: str | None = None  # one sentence for the user when the turn failed
    context_tokens: int = 0
    context_window: int = 0


@dataclass
class _Live:
    client: ClaudeSDKClient
    fingerprint: tuple[Any, ...]
    session_id: str | None
    last_used: float = field(default_factory=time.monotonic)
    busy: bool = False


OptionsFactory = Callable[[ClaudeSession, Turn], dict[str, Any]]

_DIED = "Claude Code stopped unexpectedly during this turn; send your message again to retry."


class _ExitedWhileIdle(Exception):
    """The client's CLI was gone before the turn's prompt could be sent to it."""


_API_ERRORS = {
    "rate_limit": "Claude's API is rate limiting this bot right now; please try again in a minute.",
    "overloaded": "Claude's API is overloaded right now; please try again in a minute.",
    "server_error": "Claude's API had a server error; please try again.",
    "authentication_failed": "Claude Code could not authenticate; the operator needs to check the API key or login.",
    "billing_error": "Claude's API refused the request for billing reasons.",
}


def _error_sentence(result: ResultMessage | None, api_error: str | None, model: str | None = None) -> str:
    if (named := api_error_sentence(api_error, model)) is not None:
        return named
    # The HTTP status first: the CLI labels a 529 "server_error", and the user should hear "overloaded".
    status = result.api_error_status if result else None
    if status == 529:
        return _API_ERRORS["overloaded"]
    if status == 429:
        return _API_ERRORS["rate_limit"]
    if status and status >= 500:
        return _API_ERRORS["server_error"]
    if api_error in _API_ERRORS:
        return _API_ERRORS[api_error]
    if result is not None and result.subtype == "error_max_turns":
        return "Claude stopped because the turn hit its maximum number of steps."
    return "Claude Code could not finish this turn; your message was kept, send it again to retry."


class ClaudeRunner:
    def __init__(
        self,
        *,
        base_options: Callable[[], dict[str, Any]],
        extra_options: OptionsFactory | None = None,
        max_live: int = 8,
        idle_seconds: float = 600.0,
        stderr_tail: Callable[[], str] | None = None,
    ) -> None:
        self._stderr_tail = stderr_tail  # the CLI's recent stderr, for the log of a failed start
        self._base_options = base_options
        self._extra_options = extra_options
        self.max_live = max_live
        self.idle_seconds = idle_seconds
        self._live: dict[str, _Live] = {}
        self._starting = 0  # clients connecting: not in _live yet, but their CLI runs
        self._closing: set[asyncio.Task[None]] = set()  # disconnects in progress
        self._slots = asyncio.Condition()
        self._reaper: asyncio.Task[None] | None = None
        self._warming: dict[str, asyncio.Task[None]] = {}  # pre-starts in progress, by session name

    @property
    def live_count(self) -> int:
        return len(self._live)

    def start(self) -> None:
        self._reaper = asyncio.create_task(self._reap_idle(), name="claude-idle-reaper")

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
        options.update(
            cwd=record.working_dir,
            resume=record.session_id,
            include_partial_messages=True,
        )
        if record.permission_mode:
            options["permission_mode"] = record.permission_mode
        if record.model:
            options["model"] = record.model
        if self._extra_options is not None:
            options.update(self._extra_options(session, turn))
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
        self._starting += 1

        async def start() -> None:
            try:
                client = ClaudeSDKClient(self._options(session, turn))
                await client.connect()
                self._live[session.name] = _Live(client=client, fingerprint=self._fingerprint(session), session_id=session.session_id)
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
        if live is not None and (live.fingerprint != fingerprint or live.session_id != session.session_id):
            # /cd, /new, /resume, /mode or /model changed what the CLI was started with.
            self._discard(session.name)
            live = None
        if live is None:
            await self._make_room()
            try:
                client = ClaudeSDKClient(self._options(session, turn))
                await client.connect()  # on failure it shuts its CLI down itself
                live = _Live(client=client, fingerprint=fingerprint, session_id=session.session_id)
                self._live[session.name] = live
            finally:
                self._starting -= 1
                if live is None:  # the place reserved for it is free again
                    async with self._slots:
                        self._slots.notify_all()
        live.busy = True
        live.last_used = time.monotonic()
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
        live = self._live.get(session.name)
        if live is None or not live.busy:
            return False
        try:
            await asyncio.wait_for(live.client.interrupt(), timeout=10)
        except Exception as exc:  # a dead CLI: closing it ends the turn as well
            log.warning("interrupt of %s failed (%s); closing its client", session.name, exc)
            await self._close(session.name)
        return True

    async def run(self, session: ClaudeSession, turn: Turn, prompt: str | AsyncIterator[dict[str, Any]], sink: TurnSink) -> TurnOutcome:
        """Run one turn to its end. Never raises for Claude-side failures: they come back as `error`."""
        try:
            return await self._run_once(session, turn, prompt, sink)
        except _ExitedWhileIdle as exc:
            log.warning("Claude Code for %s had exited while idle (%s)", session.name, exc)
            if not isinstance(prompt, str):  # a streamed prompt may be partly consumed: it can't be re-sent
                return TurnOutcome(text="", error=_DIED)
        # Nothing reached the dead CLI, so a fresh one (resuming the conversation) takes the turn.
        try:
            return await self._run_once(session, turn, prompt, sink)
        except _ExitedWhileIdle:
            return TurnOutcome(text="", error=_DIED)

    async def _run_once(
        self, session: ClaudeSession, turn: Turn, prompt: str | AsyncIterator[dict[str, Any]], sink: TurnSink
    ) -> TurnOutcome:
        try:
            live = await self._client_for(session, turn)
        except ClaudeSDKError as exc:
            stderr = self._stderr_tail() if self._stderr_tail else ""
            log.error("could not start Claude Code for %s: %s\nits stderr:\n%s", session.name, exc, stderr or "(empty)")
            return TurnOutcome(text="", error=start_failure_sentence(stderr))
        try:
            try:
                await live.client.query(prompt)
            except CLIConnectionError as exc:
                raise _ExitedWhileIdle(str(exc)) from exc
            outcome = await self._converse(live, sink)
        except _ExitedWhileIdle:
            self._discard(session.name)
            raise
        except (ClaudeSDKError, OSError) as exc:
            log.error("Claude Code died during a turn of %s: %s", session.name, exc)
            self._discard(session.name)
            return TurnOutcome(text="", error=_DIED)
        except asyncio.CancelledError:
            self._discard(session.name)
            raise
        finally:
            if self._live.get(session.name) is live:
                await self._release(live)
        if outcome.result is None and not outcome.error and self._live.get(session.name) is live:
            # The CLI's output ended without a result although nobody closed it: it exited mid-turn.
            log.error("Claude Code for %s exited during a turn without a result", session.name)
            outcome.error = _DIED
        if outcome.session_id:
            live.session_id = outcome.session_id
        if outcome.error:
            # Start the next turn from a fresh process: the CLI may be in a bad state.
            self._discard(session.name)
        return outcome

    async def _converse(self, live: _Live, sink: TurnSink) -> TurnOutcome:
        client = live.client
        texts: list[str] = []
        streamed = False  # the current assistant message's text already arrived as deltas
        shown = False  # any text shown yet: later text blocks start on a new paragraph
        api_error: str | None = None
        model: str | None = None
        outcome = TurnOutcome(text="")
        async for message in client.receive_response():
            if isinstance(message, StreamEvent):
                if message.parent_tool_use_id is None:
                    event = message.event
                    if shown and _starts_text_block(event):
                        sink.append_text("\n\n")
                    delta = _text_delta(event)
                    if delta:
                        streamed = shown = True
                        sink.append_text(delta)
            elif isinstance(message, AssistantMessage):
                if message.error:
                    # The CLI's own account of a failed API call ("API Error: 529 …"), not Claude's
                    # words: the user gets one sentence for it instead.
                    api_error = message.error
                    said = " ".join(b.text for b in message.content if isinstance(b, TextBlock))
                    log.warning("Claude Code reports %s: %s", api_error, said)
                    continue
                if message.parent_tool_use_id is not None:
                    continue  # a subagent's inner steps
                for block in message.content:
                    if isinstance(block, TextBlock) and block.text.strip():
                        texts.append(block.text)
                        if not streamed:
                            sink.append_text(("\n\n" if shown else "") + block.text)
                            shown = True
                    elif isinstance(block, ToolUseBlock):
                        sink.set_status("🔧 " + describe_tool(block.name, block.input))
                streamed = False
            elif isinstance(message, SystemMessage) and message.subtype == "init":
                outcome.session_id = message.data.get("session_id") or outcome.session_id
                model = message.data.get("model") or model
            elif isinstance(message, ResultMessage):
                outcome.result = message
                outcome.session_id = message.session_id or outcome.session_id
                outcome.interrupted = (message.terminal_reason or "").startswith("aborted")
                if message.is_error and not outcome.interrupted:
                    outcome.error = _error_sentence(message, api_error, model)
                _context_from(message, outcome)
        if api_error and not outcome.error and not texts:
            outcome.error = _error_sentence(outcome.result, api_error, model)
        outcome.text = "\n\n".join(texts)
        return outcome


def _text_delta(event: dict[str, Any]) -> str:
    if event.get("type") == "content_block_delta":
        delta = event.get("delta") or {}
        if delta.get("type") == "text_delta":
            return str(delta.get("text") or "")
    return ""


def _starts_text_block(event: dict[str, Any]) -> bool:
    return event.get("type") == "content_block_start" and (event.get("content_block") or {}).get("type") == "text"


def _context_from(result: ResultMessage, outcome: TurnOutcome) -> None:
    usage = result.usage or {}
    outcome.context_tokens = sum(
        int(usage.get(k) or 0) for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    ) + int(usage.get("output_tokens") or 0)
    for model_usage in (result.model_usage or {}).values():
        outcome.context_window = max(outcome.context_window, int(model_usage.get("contextWindow") or 0))
