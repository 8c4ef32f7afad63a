"""What a turn reports while it runs (typed events) and how it ended (one normalized outcome).

`Conversation` reads the SDK's messages of one turn: it yields the events the chat shows as
they happen and builds the `TurnOutcome` the rest of the bot keeps; nothing outside this
module looks at an SDK message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.claude.failures import api_error_sentence, connection_sentence, retry_sentence
from bot.claude.tool_summary import describe_tool

if TYPE_CHECKING:
    from claude_agent_sdk import AssistantMessage, ResultMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextDelta:
    """More of Claude's answer (a paragraph break between text blocks is a delta of its own)."""

    text: str


@dataclass(frozen=True)
class ToolStarted:
    name: str
    input: dict[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """`Bash: pwd`, `Edit: src/app.py`: the tool call in a few words, without decoration."""
        return describe_tool(self.name, self.input)


@dataclass(frozen=True)
class Retrying:
    """Claude Code retries a failed API request (its api_retry message); `sentence` says why, for the progress."""

    sentence: str


@dataclass(frozen=True)
class DeskBusy:
    """Another process (Claude Code at the desk) is in the middle of a turn of this conversation, so this turn
    waits before it reaches Claude (`busy`), or no longer does."""

    busy: bool


TurnEvent = TextDelta | ToolStarted | Retrying | DeskBusy


@dataclass
class TurnOutcome:
    text: str = ""
    session_id: str | None = None
    error: str | None = None  # one sentence for the user when the turn failed
    finished: bool = False  # the CLI reported a result (a turn without one ended abnormally)
    input_tokens: int = 0  # fresh + cache reads + cache writes
    output_tokens: int = 0
    cumulative_cost: float | None = None  # the conversation's running cost, as the CLI reports it
    duration_ms: int = 0
    context_window: int = 0
    # Claude Code's slash commands and skills for the turn's directory, as its init message listed them
    # (None: the turn had no init message).
    slash_commands: list[str] | None = None
    skills: list[str] | None = None

    @property
    def context_tokens(self) -> int:
        """What the conversation now takes of the model's context."""
        return self.input_tokens + self.output_tokens


API_ERRORS = {
    "rate_limit": "Claude's API is rate limiting this bot right now; please try again in a minute.",
    "overloaded": "Claude's API is overloaded right now; please try again in a minute.",
    "server_error": "Claude's API had a server error; please try again.",
    "authentication_failed": "Claude Code could not authenticate; the operator needs to check the API key or login.",
    "billing_error": "Claude's API refused the request for billing reasons.",
}


def error_sentence(result: ResultMessage | None, api_error: str | None, model: str | None = None, said: str = "") -> str:
    if (named := api_error_sentence(api_error, model)) is not None:
        return named
    # A connection that never reached the API: the CLI calls it "server_error", the chat hears what it was.
    if (unreached := connection_sentence(said)) is not None:
        return unreached
    # The HTTP status first: the CLI labels a 529 "server_error", and the user should hear "overloaded".
    status = result.api_error_status if result else None
    if status == 529:
        return API_ERRORS["overloaded"]
    if status == 429:
        return API_ERRORS["rate_limit"]
    if status and status >= 500:
        return API_ERRORS["server_error"]
    if api_error in API_ERRORS:
        return API_ERRORS[api_error]
    if result is not None and result.subtype == "error_max_turns":
        return "Claude stopped because the turn hit its maximum number of steps."
    return "Claude Code could not finish this turn; your message was kept, send it again to retry."


class Conversation:
    """One turn's SDK messages in, events and the outcome out."""

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._streamed = False  # the current assistant message's text already arrived as deltas
        self._shown = False  # any text shown yet: later text blocks start on a new paragraph
        self._api_error: str | None = None
        self._api_error_said = ""  # the CLI's own words for it ("API Error: Connection refused …")
        self._model: str | None = None  # the model the CLI runs (init message), named if the API does not know it
        self._result: ResultMessage | None = None
        self._outcome = TurnOutcome()

    def feed(self, message: Any) -> Iterator[TurnEvent]:
        from claude_agent_sdk import AssistantMessage, ResultMessage, StreamEvent, SystemMessage  # loaded by then

        if isinstance(message, StreamEvent):
            if message.parent_tool_use_id is None:
                yield from self._stream(message.event)
        elif isinstance(message, AssistantMessage):
            yield from self._assistant(message)
        elif isinstance(message, SystemMessage) and message.subtype == "init":
            self._init(message.data)
        elif isinstance(message, SystemMessage) and message.subtype == "api_retry":
            yield self._retrying(message.data)
        elif isinstance(message, ResultMessage):
            self._finish(message)

    def _init(self, data: dict[str, Any]) -> None:
        outcome = self._outcome
        outcome.session_id = data.get("session_id") or outcome.session_id
        self._model = data.get("model") or self._model
        outcome.slash_commands = _names(data.get("slash_commands"))
        outcome.skills = _names(data.get("skills"))

    def _retrying(self, data: dict[str, Any]) -> Retrying:
        status = data.get("error_status")
        sentence = retry_sentence(
            status if isinstance(status, int) else None, str(data.get("error") or "") or None,
            int(data.get("attempt") or 0), int(data.get("max_retries") or 0), float(data.get("retry_delay_ms") or 0),
        )
        log.warning("Claude Code retries: %s", sentence)
        return Retrying(sentence)

    def outcome(self) -> TurnOutcome:
        outcome = self._outcome
        if self._api_error and not outcome.error and not self._texts:
            outcome.error = error_sentence(self._result, self._api_error, self._model, self._api_error_said)
        outcome.text = "\n\n".join(self._texts)
        return outcome

    def _stream(self, event: dict[str, Any]) -> Iterator[TurnEvent]:
        if self._shown and _starts_text_block(event):
            yield TextDelta("\n\n")
        delta = _text_delta(event)
        if delta:
            self._streamed = self._shown = True
            yield TextDelta(delta)

    def _assistant(self, message: AssistantMessage) -> Iterator[TurnEvent]:
        from claude_agent_sdk import TextBlock, ToolUseBlock

        if message.error:
            # The CLI's own account of a failed API call ("API Error: 529 …"), not Claude's
            # words: the user gets one sentence for it instead.
            self._api_error = message.error
            said = " ".join(b.text for b in message.content if isinstance(b, TextBlock))
            self._api_error_said = said
            log.warning("Claude Code reports %s: %s", message.error, said)
            return
        if message.parent_tool_use_id is not None:
            return  # a subagent's inner steps
        for block in message.content:
            if isinstance(block, TextBlock) and block.text.strip():
                self._texts.append(block.text)
                if not self._streamed:
                    yield TextDelta(("\n\n" if self._shown else "") + block.text)
                    self._shown = True
            elif isinstance(block, ToolUseBlock):
                yield ToolStarted(block.name, block.input)
        self._streamed = False

    def _finish(self, result: ResultMessage) -> None:
        outcome = self._outcome
        self._result = result
        outcome.finished = True
        outcome.session_id = result.session_id or outcome.session_id
        # "aborted_*": stopped through interrupt(); the scheduler knows it asked, so this is no error.
        aborted = (result.terminal_reason or "").startswith("aborted")
        if result.is_error and not aborted:
            outcome.error = error_sentence(result, self._api_error, self._model, self._api_error_said)
        usage = result.usage or {}
        outcome.input_tokens = sum(
            int(usage.get(k) or 0) for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
        )
        outcome.output_tokens = int(usage.get("output_tokens") or 0)
        outcome.cumulative_cost = result.total_cost_usd
        outcome.duration_ms = result.duration_ms
        for model_usage in (result.model_usage or {}).values():
            outcome.context_window = max(outcome.context_window, int(model_usage.get("contextWindow") or 0))


def _names(value: Any) -> list[str] | None:
    """A list of command names from the init message; None when it has none."""
    if not isinstance(value, list):
        return None
    return [name for name in value if isinstance(name, str)]


def _text_delta(event: dict[str, Any]) -> str:
    if event.get("type") == "content_block_delta":
        delta = event.get("delta") or {}
        if delta.get("type") == "text_delta":
            return str(delta.get("text") or "")
    return ""


def _starts_text_block(event: dict[str, Any]) -> bool:
    return event.get("type") == "content_block_start" and (event.get("content_block") or {}).get("type") == "text"
