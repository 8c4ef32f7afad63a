"""A scriptable stand-in for the Anthropic Messages API, for the real Claude Code CLI.

The stand-in is an aiohttp server that pytest starts in-process on 127.0.0.1 (port 0).
The REAL Claude Code CLI (spawned by the real bot, or by ``claude_agent_sdk`` in a
test) is pointed at it with ``ANTHROPIC_BASE_URL`` (see ``tests/standins/cli_env.py``).
Tests drive the bot only through Telegram messages, so the prompt text *is* the script:
the stand-in reads directives from the last user turn of each *main* request.

Directives
==========
Found anywhere in the text blocks of the last user turn (the bot may prefix context
lines such as ``[Chat: X | From: Y]`` or append file notes); ``<system-reminder>``
blocks the CLI injects are ignored.  A directive's argument runs to the end of its
line (or to the next directive).  The first directive found wins, except that
``#slow S`` combines with the text-producing ones (``#long``, ``#markup``,
``#history`` and the plain echo), e.g. ``#long 5000 #slow 3``.

``(no directive)``
    Text reply ``echo: <the last user text, trimmed>``.
``#history``
    Text reply ``history: `` + ``" | ".join(user_texts)`` -- every user-authored text
    of the request, oldest first (tool results, system-reminders and the CLI's own
    ``[Request interrupted by user]`` markers are left out).  Proves a resumed
    session carries its history.
``#pwd``
    A ``tool_use`` of ``Bash`` with ``{"command": "pwd", "description": "Print
    working directory"}``.  When the next request carries the matching
    ``tool_result``: text ``pwd: <result text>``, or ``tool denied: <text>`` if the
    result is an error / permission denial.
``#tool <ToolName> <json input>``
    A ``tool_use`` of any tool, e.g. ``#tool Write {"file_path": "x.txt", "content":
    "hi"}`` or ``#tool mcp__bot__session_context {}`` (input defaults to ``{}``; the
    JSON stays on the directive's line).  On the ``tool_result``: ``tool result:
    <text>`` or ``tool denied: <text>`` (``is_error``: a permission denial, an unknown
    tool, an interrupted tool ...).
``#long N``
    Exactly N characters of numbered lines (``line 00001 xxxx...``), the last
    characters being ``END-OF-REPLY``.
``#markup``
    A reply full of ``<``, ``>``, ``&``, ``<div>``, ``a < b && c > d``, Markdown
    headings / bold / lists and fenced code with HTML inside, ending ``END-OF-REPLY``.
``#slow S``
    The reply (echo by default) is streamed in many small deltas spread over S
    seconds (float) -- to catch a turn mid-run, interrupt it, or queue behind it.
``#error 500`` / ``#error 529`` / ``#error 429`` (any 4xx/5xx)
    That HTTP status with Anthropic's JSON error body
    (``api_error`` / ``overloaded_error`` / ``rate_limit_error`` ...).
``#close``
    Starts the SSE stream (``message_start`` and a partial text block) and then
    drops the connection mid-message.

Retries (measured with CLI 2.1.329): the CLI itself retries 500, 529 and 429 (and a
dropped stream) with exponential back-off and jitter -- by default 10 retries, waits
of about 0.6, 1.2, 2.3, 4.7, 9.6, 18, 34, 36, 37, 36 s, i.e. ~3 minutes before the turn
ends with an error result (``ResultMessage.is_error``, ``api_error_status`` = the
status, text ``API Error: 500 ...``).  The same for all three statuses; a
``retry-after: 0`` header does not shorten the waits, an ``x-should-retry: false``
header stops retrying at once.  ``CLAUDE_CODE_MAX_RETRIES=N`` bounds it to N retries
(clamped to 15; 0 = none): ``cli_env`` sets 1, so ``#error 500`` ends in ~0.7 s after
2 requests.  A dropped stream (``#close``) is retried as well (3 requests with
``CLAUDE_CODE_MAX_RETRIES=1``) and ends as ``API Error: Connection dropped
(ECONNRESET)``.  Every attempt is recorded.  A retry carries the same prompt, so a
directive fails every attempt; ``fail_next(status, count)`` fails only ``count``
attempts, which is how to make the CLI's retry succeed.

After a failed turn the CLI keeps the unanswered prompt and merges it with the next
prompt into one user message; the stand-in remembers prompts it failed (error, close,
drop, aborted stream) and skips them at the start of a merged turn, so the newest
prompt is the script.  Messages the user sends while a turn runs reach the model
inside a ``system`` message (``The user sent a new message while you were
working: ...``); the stand-in treats them as user text of the current turn (and of
``#history``), and after a tool round-trip answers the tool result and the queued
text together.

Auxiliary requests
==================
Besides the main agent loop the CLI sends auxiliary ``/v1/messages`` requests (e.g.
the session-title generator: no tools, ``output_config.format`` = JSON schema
``{"title": ...}``; the user's prompt is quoted inside ``<session>`` tags, so it must
never be read as a script).  They are recorded with ``is_main=False`` and always get a
short plain answer -- a JSON instance of the requested schema when structured output is
asked for (``{"title": "Stand-in session"}``), else ``ok`` -- never a ``tool_use``.
Other paths: ``HEAD/GET /api/hello`` (the CLI's connectivity probe) -> 200,
``POST /v1/messages/count_tokens`` -> ``{"input_tokens": N}``, ``GET /v1/models`` -> a
one-model list, anything else -> Anthropic-style 404 JSON.  These are recorded in
``other_requests``.

Observed with CLI 2.1.329: with ``cli_env`` (``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC``)
the CLI sends nothing but main requests, in ``-p`` mode and in SDK streaming mode
alike.  Without it: ``HEAD /api/hello`` once per CLI start, and in SDK streaming mode
one title-generation request per session (``-p`` runs send none).  count_tokens and
models were never seen; they are answered in case a future CLI asks.

Programmatic control
====================
``standin.script = fn`` -- ``fn(request_json) -> Reply | None`` (may be async; a
two-argument ``fn(request_json, recorded_request)`` also gets the parsed
``RecordedRequest``) takes over main requests; ``None`` falls back to the directives.
Build answers with ``Reply.text_reply(text, duration=0)``, ``Reply.tool(name, input)``,
``Reply.error(status, message=None)``, ``Reply.close()`` or ``Reply.drop()``.
``unknown_models = {"name"}`` -- requests for that model get 404 ``not_found_error``
``model: name``, as the real API answers an unknown model.
``fail_next(status, count=1)`` / ``close_next(count=1)`` -- the next main requests
fail / drop regardless of directives (precedence: down > fail/close > script >
directives).  ``set_down(True)`` answers every request (main, auxiliary, other paths)
with 529 ``overloaded_error`` -- or with ``set_down(True, refuse=True)`` drops every
connection without an answer -- until ``set_down(False)``.

Usage in ``message_start`` / ``message_delta`` is plausible (input tokens ~ request
size / 4, output tokens ~ reply size / 4), so ``ResultMessage.usage`` and
``total_cost_usd`` are filled in.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.standins.served import Served

__all__ = [
    "DIRECTIVE_RE",
    "END_MARKER",
    "MARKUP_TEXT",
    "MessagesStandin",
    "OtherRequest",
    "RecordedRequest",
    "Reply",
    "is_main_request",
    "long_text",
    "tool_result_text",
    "user_texts",
]

END_MARKER = "END-OF-REPLY"

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

ERROR_MESSAGES: dict[str, str] = {
    "api_error": "Internal server error (stand-in)",
    "overloaded_error": "Overloaded (stand-in)",
    "rate_limit_error": "Rate limited (stand-in)",
}

MARKUP_TEXT = (
    """# Heading <one> & "two"

Some **bold <b>not a tag</b>** and _italic_ text; a < b && c > d; 1 < 2 > 0 & done.
A bare <div> and a closing </div>, an entity-looking &amp; and &lt;tag&gt;, a \\ backslash.

## Lists

- item with <span class="x">html</span>
- item with `inline <code> & stuff`
  - nested *star* item [link](https://example.com/?a=1&b=<2>)
1. first & foremost
2. second > first

```html
<div class="box">
  <p>Hello & welcome, a < b && c > d</p>
  <script>if (a < b && c > d) { alert("x"); }</script>
</div>
```

> quote with <tag> & **bold**

| col <1> | col & 2 |
|---------|---------|
| a < b   | c > d   |

"""
    + END_MARKER
)

_DIRECTIVE_NAMES = "history|pwd|tool|long|markup|slow|error|close"
# ``#name`` then its argument: the rest of the line, up to another directive.
DIRECTIVE_RE = re.compile(rf"(?<![\w#])#({_DIRECTIVE_NAMES})\b[ \t]*((?:(?![ \t]#(?:{_DIRECTIVE_NAMES})\b)[^\n])*)")
_QUEUED_HEAD = "The user sent a new message while you were working:\n"
_QUEUED_TAIL = "\n\nThis is how Claude Code surfaces messages"
_SYSTEM_REMINDER_RE = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)
# Texts the CLI itself puts into user turns (not user-authored).
_CLI_MARKERS = (
    "[Request interrupted by user",
    "<local-command-",
    "<command-name>",
    "Caveat: The messages below were generated by the user while running local commands",
)

# --------------------------------------------------------------------------- helpers


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, dict)]
    return []


def _clean_text(text: str) -> str:
    text = _SYSTEM_REMINDER_RE.sub("", text).strip()
    if any(text.startswith(m) for m in _CLI_MARKERS):
        return ""
    return text


def _queued_texts(msg: dict[str, Any]) -> list[str]:
    """User messages the CLI surfaces mid-turn inside a ``system`` message."""
    out = []
    for block in _blocks(msg.get("content")):
        text = str(block.get("text", "")) if block.get("type") == "text" else ""
        while _QUEUED_HEAD in text:
            text = text[text.index(_QUEUED_HEAD) + len(_QUEUED_HEAD) :]
            cut = text.find(_QUEUED_TAIL)
            queued, text = (text, "") if cut < 0 else (text[:cut], text[cut:])
            queued = _clean_text(queued)
            if queued:
                out.append(queued)
    return out


def _message_texts(msg: dict[str, Any]) -> list[str]:
    """User-authored texts carried by one message (user text blocks, queued texts)."""
    if msg.get("role") == "user":
        texts = (_clean_text(str(b.get("text", ""))) for b in _blocks(msg.get("content")) if b.get("type") == "text")
        return [t for t in texts if t]
    if msg.get("role") == "system":
        return _queued_texts(msg)
    return []


def user_texts(body: dict[str, Any]) -> list[str]:
    """Every user-authored text of the request, oldest first (as ``#history`` does).

    Text blocks of user messages (system-reminders stripped, CLI markers such as
    ``[Request interrupted by user]`` dropped, tool results left out) plus messages
    the user sent mid-turn, which the CLI forwards inside a ``system`` message.
    """
    out: list[str] = []
    for msg in body.get("messages") or []:
        out.extend(_message_texts(msg))
    return out


def _current_turn(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages after the last assistant message: the newest user turn."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "assistant":
            return messages[i + 1 :]
    return messages


def _last_user_texts(body: dict[str, Any], stale: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """User-authored texts of the newest user turn (the script of a main request).

    After a failed turn (an API error or a dropped stream) the CLI keeps the
    unanswered prompt and merges it with the next one into a single user message
    (``["#error 500\\n", "next prompt"]``).  Leading texts found in ``stale`` (prompts
    the stand-in failed before) are skipped, so the newest prompt is the script.
    """
    texts: list[str] = []
    for msg in _current_turn(body):
        texts.extend(_message_texts(msg))
    while len(texts) > 1 and texts[0] in stale:
        texts.pop(0)
    return texts


def _last_tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for msg in _current_turn(body):
        if msg.get("role") == "user":
            out.extend(b for b in _blocks(msg.get("content")) if b.get("type") == "tool_result")
    return out


def _turn_interrupted(body: dict[str, Any]) -> bool:
    """The newest user turn follows an interrupt (``[Request interrupted by user...]``)."""
    for msg in _current_turn(body):
        if msg.get("role") == "user":
            for b in _blocks(msg.get("content")):
                if b.get("type") == "text" and str(b.get("text", "")).lstrip().startswith("[Request interrupted by user"):
                    return True
    return False


def tool_result_text(block: dict[str, Any]) -> str:
    """The text of a ``tool_result`` block (string or list-of-blocks content)."""
    content = block.get("content")
    if isinstance(content, str):
        return content.strip()
    parts = []
    for b in _blocks(content):
        if b.get("type") == "text":
            parts.append(str(b.get("text", "")))
        elif b.get("type"):
            parts.append(f"[{b['type']}]")
    return "\n".join(parts).strip()


def is_main_request(body: dict[str, Any]) -> bool:
    """Main agent-loop request (vs an auxiliary one such as title generation).

    Auxiliary requests ask for structured output (``output_config.format``) and/or
    carry no tools; the main loop always offers the agent's tools.
    """
    output_config = body.get("output_config") or {}
    if isinstance(output_config, dict) and output_config.get("format"):
        return False
    if not body.get("tools"):
        return False
    return True


def long_text(n: int) -> str:
    """Exactly ``n`` characters of numbered lines ending with ``END-OF-REPLY``."""
    if n <= len(END_MARKER):
        return END_MARKER[len(END_MARKER) - max(n, 0) :] if n > 0 else ""
    width = 60  # characters per line, newline included
    budget = n - len(END_MARKER)
    parts: list[str] = []
    i = 1
    while budget >= width:
        head = f"line {i:05d} "
        parts.append(head + "x" * (width - 1 - len(head)) + "\n")
        budget -= width
        i += 1
    if budget:
        parts.append((f"line {i:05d} " + "x" * width)[:budget])
    text = "".join(parts) + END_MARKER
    assert len(text) == n
    return text


def _arity(fn: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _estimate_tokens(obj: Any) -> int:
    try:
        size = len(json.dumps(obj, ensure_ascii=False))
    except (TypeError, ValueError):
        size = len(str(obj))
    return max(1, size // 4)


def _schema_instance(schema: Any) -> Any:
    """A minimal instance of a JSON schema (for structured-output auxiliary requests)."""
    if not isinstance(schema, dict):
        return "Stand-in"
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _schema_instance(schema[key][0])
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "null")
    if typ == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: _schema_instance(v) for k, v in props.items()}
    if typ == "array":
        return []
    if typ in ("integer", "number"):
        return 0
    if typ == "boolean":
        return False
    if typ == "null":
        return None
    return "Stand-in session"


# --------------------------------------------------------------------------- replies


@dataclass
class Reply:
    """What the stand-in answers to one request.

    kind: ``"text"`` (text block), ``"tool_use"`` (an optional ``text`` block, then a
    tool_use block), ``"error"`` (HTTP ``status`` + Anthropic error JSON, extra
    ``headers`` -- e.g. ``{"x-should-retry": "false"}``, which the CLI honours),
    ``"close"`` (start the stream, then drop the connection) or ``"drop"`` (drop the
    connection without a byte).  ``duration`` spreads the streamed text deltas over
    that many seconds; ``stop_reason`` overrides ``end_turn`` / ``tool_use``.
    """

    kind: str = "text"
    text: str = ""
    tool_name: str = ""
    tool_input: dict[str, Any] = field(default_factory=dict)
    tool_id: str | None = None
    status: int = 0
    error_type: str | None = None
    message: str | None = None
    duration: float = 0.0
    stop_reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text_reply(cls, text: str, duration: float = 0.0) -> Reply:
        return cls(kind="text", text=text, duration=duration)

    @classmethod
    def tool(cls, name: str, input: dict[str, Any] | None = None, text: str = "", tool_id: str | None = None) -> Reply:
        return cls(kind="tool_use", tool_name=name, tool_input=dict(input or {}), text=text, tool_id=tool_id)

    @classmethod
    def error(cls, status: int, message: str | None = None, error_type: str | None = None) -> Reply:
        return cls(kind="error", status=status, message=message, error_type=error_type)

    @classmethod
    def close(cls, text: str = "partial answer that never ") -> Reply:
        return cls(kind="close", text=text)

    @classmethod
    def drop(cls) -> Reply:
        """Drop the connection before answering anything (like a dead server)."""
        return cls(kind="drop")


@dataclass
class RecordedRequest:
    """One ``POST /v1/messages`` request as the stand-in saw it."""

    body: dict[str, Any]
    is_main: bool
    at: float
    user_texts: list[str]
    last_user_text: str
    tool_results: list[dict[str, Any]]
    prompt_texts: list[str] = field(default_factory=list)  # the newest prompt's text blocks
    headers: dict[str, str] = field(default_factory=dict)
    path: str = "/v1/messages"
    reply: Reply | None = None
    status: int = 200
    finished: bool = False  # the answer was sent completely
    aborted: bool = False  # the client went away mid-answer (e.g. an interrupt)
    done_at: float | None = None

    @property
    def directive(self) -> str | None:
        """The first directive of the newest prompt (None for auxiliary requests)."""
        if not self.is_main:
            return None
        m = DIRECTIVE_RE.search(self.last_user_text)
        return m.group(1) if m else None

    @property
    def session_id(self) -> str | None:
        return self.headers.get("X-Claude-Code-Session-Id") or self.headers.get("x-claude-code-session-id")


@dataclass
class OtherRequest:
    """A request to any other path (connectivity probe, count_tokens, models, ...)."""

    method: str
    path: str
    at: float
    body: Any = None


ScriptFn = Callable[..., "Reply | None | Awaitable[Reply | None]"]


# --------------------------------------------------------------------------- server


class MessagesStandin(Served):
    """In-process Messages API stand-in.  ``await start()`` / ``await stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, chunk_size: int = 400) -> None:
        self.host = host
        self.port = port
        self.chunk_size = chunk_size
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.other_requests: list[OtherRequest] = []
        self.internal_errors: list[str] = []  # exceptions inside the stand-in (tests assert it stays empty)
        self.script: ScriptFn | None = None
        # Model names the API does not know: a request for one gets 404 not_found_error "model: NAME",
        # as the real API answers a misspelt or retired model.
        self.unknown_models: set[str] = set()
        self._fail_queue: list[int] = []
        self._close_count = 0
        self._down: str | None = None  # None | "529" | "refuse"
        self._tool_kinds: dict[str, str] = {}
        self._stale_prompts: set[str] = set()
        self._ids = itertools.count(1)
        self._cond: asyncio.Condition | None = None

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._cond = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.base_url = await self._serve(app, self.host, self.port, handle_signals=False, shutdown_timeout=2.0)
        self.port = int(self.base_url.rsplit(":", 1)[1])

    # ---------------------------------------------------------------- control
    def fail_next(self, status: int, count: int = 1) -> None:
        """The next ``count`` main requests answer HTTP ``status`` whatever they say."""
        self._fail_queue.extend([status] * count)

    def close_next(self, count: int = 1) -> None:
        """The next ``count`` main requests get their stream dropped mid-message."""
        self._close_count += count

    def set_down(self, down: bool = True, refuse: bool = False) -> None:
        """While down every request answers 529 (or, with ``refuse``, is dropped unanswered)."""
        self._down = ("refuse" if refuse else "529") if down else None

    def reset(self) -> None:
        """Forget recorded requests and pending failures (script stays)."""
        self.requests.clear()
        self.other_requests.clear()
        self._fail_queue.clear()
        self._close_count = 0
        self._down = None

    # ---------------------------------------------------------------- queries
    def main_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.is_main]

    def aux_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if not r.is_main]

    async def wait_for(self, predicate: Callable[..., Any], timeout: float = 30.0) -> Any:
        """Wait until ``predicate`` is truthy and return its value.

        The predicate takes no argument or one (this stand-in).  It is evaluated
        now, again whenever a request arrives or finishes (``asyncio.Condition``),
        and every 0.25 s in case it also looks at other state.  Raises
        ``TimeoutError`` after ``timeout`` seconds.
        """
        assert self._cond is not None, "start() first"
        try:
            wants_arg = any(
                p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                for p in inspect.signature(predicate).parameters.values()
            )
        except (TypeError, ValueError):
            wants_arg = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._cond:
            while True:
                result = predicate(self) if wants_arg else predicate()
                if result:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(
                        f"stand-in condition not met within {timeout}s; "
                        f"{len(self.requests)} requests ({len(self.main_requests())} main)"
                    )
                try:
                    await asyncio.wait_for(self._cond.wait(), min(remaining, 0.25))
                except TimeoutError:
                    pass

    async def _notify(self) -> None:
        if self._cond is None:
            return
        async with self._cond:
            self._cond.notify_all()

    # ---------------------------------------------------------------- HTTP
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._route(request)
        except ConnectionError:
            raise
        except Exception as exc:  # a bug in the stand-in: record it, answer 500
            self.internal_errors.append(f"{request.method} {request.path_qs}: {exc!r}\n{traceback.format_exc()}")
            return web.json_response(
                {"type": "error", "error": {"type": "api_error", "message": f"stand-in bug: {exc!r}"}}, status=500
            )

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/")
        if path == "/v1/messages" and request.method == "POST":
            return await self._messages(request)
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")[:2000]
        self.other_requests.append(OtherRequest(request.method, request.path_qs, time.time(), body))
        await self._notify()
        if self._down == "refuse":
            self._drop(request)
            return web.Response(status=503)  # never reaches the client
        if self._down:
            return self._error_response(Reply.error(529))
        if path == "/api/hello":
            return web.json_response({"message": "hello"})
        if path == "/v1/messages/count_tokens" and request.method == "POST":
            return web.json_response({"input_tokens": _estimate_tokens(body)})
        if path == "/v1/models" and request.method == "GET":
            return web.json_response(
                {
                    "data": [
                        {
                            "type": "model",
                            "id": "claude-opus-5-5",
                            "display_name": "Claude (stand-in)",
                            "created_at": "2026-01-01T00:00:00Z",
                        }
                    ],
                    "has_more": False,
                    "first_id": "claude-opus-5-5",
                    "last_id": "claude-opus-5-5",
                }
            )
        return web.json_response(
            {"type": "error", "error": {"type": "not_found_error", "message": f"Not found: {request.path}"}},
            status=404,
        )

    @staticmethod
    def _drop(request: web.Request) -> None:
        transport = request.transport
        if transport is not None:
            transport.abort() if hasattr(transport, "abort") else transport.close()

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._error_response(Reply.error(400, "invalid JSON body"))
        if not isinstance(body, dict):
            return self._error_response(Reply.error(400, "body must be an object"))
        is_main = is_main_request(body)
        last_texts = _last_user_texts(body, self._stale_prompts if is_main else frozenset())
        rec = RecordedRequest(
            body=body,
            is_main=is_main,
            at=time.time(),
            user_texts=user_texts(body),
            last_user_text="\n".join(last_texts),
            tool_results=_last_tool_results(body),
            prompt_texts=last_texts,
            headers=dict(request.headers),
            path=request.path_qs,
        )
        self.requests.append(rec)
        await self._notify()
        try:
            return await self._answer(request, rec)
        finally:
            rec.done_at = time.time()
            if rec.is_main and (rec.aborted or not rec.finished or (rec.reply and rec.reply.kind in ("error", "close", "drop"))):
                # The CLI will merge this unanswered prompt into the next user turn.
                self._stale_prompts.update(last_texts)
            await asyncio.shield(self._notify())

    async def _answer(self, request: web.Request, rec: RecordedRequest) -> web.StreamResponse:
        reply = await self._decide(rec)
        rec.reply = reply
        if reply.kind == "error":
            rec.status = reply.status
            rec.finished = True
            return self._error_response(reply)
        if reply.kind == "drop":
            rec.status = 0
            rec.aborted = True
            self._drop(request)
            return web.Response(status=503)  # never reaches the client
        if rec.body.get("stream"):
            return await self._stream(request, rec, reply)
        if reply.kind == "close":
            rec.aborted = True
            self._drop(request)
            return web.Response(status=503)  # never reaches the client
        rec.finished = True
        return web.json_response(self._message_json(rec, reply))

    async def _decide(self, rec: RecordedRequest) -> Reply:
        if self._down == "refuse":
            return Reply.drop()
        if self._down:
            return Reply.error(529)
        model = str(rec.body.get("model") or "")
        if model in self.unknown_models:
            return Reply.error(404, f"model: {model}", "not_found_error")
        if not rec.is_main:
            return self._aux_reply(rec.body)
        if self._fail_queue:
            return Reply.error(self._fail_queue.pop(0))
        if self._close_count > 0:
            self._close_count -= 1
            return Reply.close()
        if self.script is not None:
            result = self.script(rec.body, rec) if _arity(self.script) >= 2 else self.script(rec.body)
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                return result
        return self._directive_reply(rec)

    @staticmethod
    def _aux_reply(body: dict[str, Any]) -> Reply:
        output_config = body.get("output_config") or {}
        fmt = output_config.get("format") if isinstance(output_config, dict) else None
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            return Reply.text_reply(json.dumps(_schema_instance(fmt.get("schema"))))
        return Reply.text_reply("ok")

    def _directive_reply(self, rec: RecordedRequest) -> Reply:
        # A tool round-trip: answer the tool_result(s) of the last user turn.
        tool_lines = []
        for block in rec.tool_results:
            result = tool_result_text(block)
            kind = self._tool_kinds.get(str(block.get("tool_use_id")), "tool")
            if block.get("is_error"):
                tool_lines.append(f"tool denied: {result}")
            elif kind == "pwd":
                tool_lines.append(f"pwd: {result}")
            else:
                tool_lines.append(f"tool result: {result}")
        if tool_lines and not rec.last_user_text.strip():
            return Reply.text_reply("\n".join(tool_lines))
        if _turn_interrupted(rec.body):
            tool_lines = []  # results of a tool the user interrupted: answer the new prompt only
        reply = self._prompt_reply(rec)
        if tool_lines and reply.kind in ("text", "tool_use"):
            # New user text next to tool results (a message queued mid-turn, or a
            # new prompt after an interrupted tool): answer both.
            reply.text = "\n".join(tool_lines + ([reply.text] if reply.text else []))
        return reply

    def _prompt_reply(self, rec: RecordedRequest) -> Reply:
        text = rec.last_user_text.strip()
        found = {m.group(1): m.group(2).strip() for m in reversed(list(DIRECTIVE_RE.finditer(text)))}
        first = next((m.group(1) for m in DIRECTIVE_RE.finditer(text) if m.group(1) != "slow"), None)
        duration = 0.0
        if "slow" in found:
            try:
                duration = max(0.0, float(found["slow"].split()[0]))
            except (IndexError, ValueError):
                duration = 1.0
        if first == "error":
            try:
                status = int(found["error"].split()[0])
            except (IndexError, ValueError):
                status = 500
            return Reply.error(status if 400 <= status <= 599 else 500)
        if first == "close":
            return Reply.close()
        if first == "pwd":
            return Reply.tool("Bash", {"command": "pwd", "description": "Print working directory"})
        if first == "tool":
            arg = found["tool"]
            name, _, rest = arg.partition(" ")
            rest = rest.strip()
            tool_input: dict[str, Any] = {}
            if rest:
                try:
                    tool_input, _ = json.JSONDecoder().raw_decode(rest)
                except ValueError:
                    return Reply.text_reply(f"stand-in: bad #tool JSON input: {rest}")
            if not name:
                return Reply.text_reply("stand-in: #tool needs a tool name")
            return Reply.tool(name, tool_input)
        if first == "long":
            try:
                n = int(found["long"].split()[0])
            except (IndexError, ValueError):
                n = 1000
            return Reply.text_reply(long_text(n), duration)
        if first == "markup":
            return Reply.text_reply(MARKUP_TEXT, duration)
        if first == "history":
            return Reply.text_reply("history: " + " | ".join(rec.user_texts), duration)
        return Reply.text_reply(f"echo: {text}", duration)

    # ---------------------------------------------------------------- rendering
    def _error_response(self, reply: Reply) -> web.Response:
        status = reply.status or 500
        etype = reply.error_type or ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        message = reply.message or ERROR_MESSAGES.get(etype, f"Stand-in error {status}")
        headers = {"request-id": f"req_standin_{next(self._ids):06d}", **reply.headers}
        return web.json_response(
            {"type": "error", "error": {"type": etype, "message": message}},
            status=status,
            headers=headers,
        )

    def _prepare_tool_id(self, reply: Reply) -> str:
        tool_id = reply.tool_id or f"toolu_standin_{next(self._ids):06d}"
        reply.tool_id = tool_id
        is_pwd = reply.tool_name == "Bash" and reply.tool_input.get("command") == "pwd"
        self._tool_kinds[tool_id] = "pwd" if is_pwd else "tool"
        return tool_id

    def _usage(self, rec: RecordedRequest, reply: Reply) -> tuple[dict[str, int], int]:
        input_tokens = _estimate_tokens([rec.body.get("system"), rec.body.get("messages")])
        output_tokens = max(1, (len(reply.text) + len(json.dumps(reply.tool_input)) * (reply.kind == "tool_use")) // 4)
        start_usage = {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 1,
        }
        return start_usage, output_tokens

    def _content(self, reply: Reply) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if reply.text and reply.kind != "close":
            blocks.append({"type": "text", "text": reply.text})
        if reply.kind == "tool_use":
            blocks.append(
                {"type": "tool_use", "id": self._prepare_tool_id(reply), "name": reply.tool_name, "input": reply.tool_input}
            )
        return blocks

    def _stop_reason(self, reply: Reply) -> str:
        return reply.stop_reason or ("tool_use" if reply.kind == "tool_use" else "end_turn")

    def _message_json(self, rec: RecordedRequest, reply: Reply) -> dict[str, Any]:
        start_usage, output_tokens = self._usage(rec, reply)
        return {
            "id": f"msg_standin_{next(self._ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": rec.body.get("model", "claude-standin"),
            "content": self._content(reply),
            "stop_reason": self._stop_reason(reply),
            "stop_sequence": None,
            "usage": {**start_usage, "output_tokens": output_tokens},
        }

    async def _stream(self, request: web.Request, rec: RecordedRequest, reply: Reply) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "request-id": f"req_standin_{next(self._ids):06d}",
            }
        )
        try:
            await resp.prepare(request)
            return await self._stream_body(request, resp, rec, reply)
        except ConnectionError:  # the client went away (an interrupt, a killed CLI)
            rec.aborted = True
            return resp

    async def _stream_body(
        self, request: web.Request, resp: web.StreamResponse, rec: RecordedRequest, reply: Reply
    ) -> web.StreamResponse:
        async def send(event: str, data: dict[str, Any]) -> None:
            await resp.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

        start_usage, output_tokens = self._usage(rec, reply)
        await send(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": f"msg_standin_{next(self._ids):06d}",
                    "type": "message",
                    "role": "assistant",
                    "model": rec.body.get("model", "claude-standin"),
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        )
        if reply.kind == "close":
            await send(
                "content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
            )
            await send(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": reply.text}},
            )
            await asyncio.sleep(0.05)
            rec.aborted = True
            self._drop(request)
            return resp

        blocks = self._content(reply)
        total_chars = sum(len(b.get("text", "")) for b in blocks) or 1
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                await send(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                )
                share = reply.duration * len(block["text"]) / total_chars
                for piece, pause in self._chunks(block["text"], share):
                    await send(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
                    )
                    if pause:
                        await asyncio.sleep(pause)
            else:
                await send(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
                    },
                )
                await send(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])},
                    },
                )
            await send("content_block_stop", {"type": "content_block_stop", "index": index})
        await send(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": self._stop_reason(reply), "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
        await send("message_stop", {"type": "message_stop"})
        await resp.write_eof()
        rec.finished = True
        return resp

    def _chunks(self, text: str, duration: float) -> list[tuple[str, float]]:
        if not text:
            return [("", 0.0)]
        if duration <= 0:
            size = self.chunk_size
            return [(text[i : i + size], 0.0) for i in range(0, len(text), size)]
        # Many small deltas: ~20 per second, at least 10, at most one per character.
        n = max(1, min(len(text), max(10, int(duration * 20))))
        cuts = [len(text) * i // n for i in range(n + 1)]
        pieces = [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
        pause = duration / len(pieces)
        return [(p, pause) for p in pieces]
