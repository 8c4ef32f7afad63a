"""The Messages API stand-in: over plain HTTP, then driven by the REAL bundled Claude Code CLI.

The first group talks to the stand-in with aiohttp (fast, no CLI).  The second group
runs the real CLI bundled in claude-agent-sdk through ``ClaudeSDKClient`` / ``query()``
with ``cli_env`` (own temporary HOME per test, bounded retries, no outside traffic).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    ResultMessage,
    TextBlock,
    query,
)

from tests.standins.cli_env import CLI_PATH, cli_env
from tests.standins.messages_api import (
    END_MARKER,
    MARKUP_TEXT,
    MessagesStandin,
    Reply,
    long_text,
    user_texts,
)


@pytest.fixture
async def standin() -> AsyncIterator[MessagesStandin]:
    server = MessagesStandin()
    await server.start()
    yield server
    await server.stop()
    assert server.internal_errors == []


# --------------------------------------------------------------------------- over HTTP


def _body(text: str | list[dict[str, Any]], *, history: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    content = [{"type": "text", "text": text}] if isinstance(text, str) else text
    return {
        "model": "claude-opus-5-5",
        "max_tokens": 1000,
        "stream": True,
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
        "system": [{"type": "text", "text": "You are a Claude agent."}],
        "messages": [*(history or []), {"role": "user", "content": content}],
        **extra,
    }


async def _post(standin: MessagesStandin, body: dict[str, Any]) -> tuple[int, Any]:
    """POST /v1/messages; returns (status, parsed JSON) or (status, [(event, data), ...]) for SSE."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{standin.base_url}/v1/messages?beta=true", json=body) as resp:
            if resp.content_type != "text/event-stream":
                return resp.status, await resp.json()
            events = []
            raw = (await resp.read()).decode()
            for chunk in raw.split("\n\n"):
                lines = dict(line.split(": ", 1) for line in chunk.splitlines() if ": " in line)
                if "event" in lines:
                    events.append((lines["event"], json.loads(lines["data"])))
            return resp.status, events


def _text_of(events: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(d["delta"].get("text", "") for e, d in events if e == "content_block_delta")


async def test_http_echo_stream_shape_and_usage(standin: MessagesStandin) -> None:
    status, events = await _post(standin, _body("[Chat: X | From: Y]\nhello there"))
    assert status == 200
    names = [e for e, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert _text_of(events) == "echo: [Chat: X | From: Y]\nhello there"
    assert events[0][1]["message"]["usage"]["input_tokens"] > 0
    assert events[-2][1]["usage"]["output_tokens"] > 0 and events[-2][1]["delta"]["stop_reason"] == "end_turn"
    (rec,) = standin.main_requests()
    assert rec.last_user_text == "[Chat: X | From: Y]\nhello there" and rec.finished


async def test_http_history_strips_reminders_and_tool_results(standin: MessagesStandin) -> None:
    history = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "<system-reminder>\nnoise\n</system-reminder>\n"},
                {"type": "text", "text": "first"},
            ],
        },
        {"role": "system", "content": [{"type": "text", "text": "# Environment"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "secret output"}]},
        {
            "role": "system",
            "content": [
                {
                    "type": "text",
                    "text": "The user sent a new message while you were working:\nqueued one\n\nThis is how Claude Code surfaces messages the user sends mid-turn.",
                }
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        {
            "role": "user",
            "content": [{"type": "text", "text": "[Request interrupted by user]\n"}, {"type": "text", "text": "second"}],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
    ]
    body = _body("please #history", history=history)
    assert user_texts(body) == ["first", "queued one", "second", "please #history"]
    _, events = await _post(standin, body)
    assert _text_of(events) == "history: first | queued one | second | please #history"


async def test_http_tool_round_trip_and_denial(standin: MessagesStandin) -> None:
    _, events = await _post(standin, _body('#tool Write {"file_path": "x.txt", "content": "hi"}'))
    start = next(d for e, d in events if e == "content_block_start")
    assert start["content_block"]["type"] == "tool_use" and start["content_block"]["name"] == "Write"
    partial = next(d for e, d in events if e == "content_block_delta")["delta"]["partial_json"]
    assert json.loads(partial) == {"file_path": "x.txt", "content": "hi"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    tool_id = start["content_block"]["id"]
    turn = [
        {"role": "user", "content": [{"type": "text", "text": '#tool Write {"file_path": "x.txt", "content": "hi"}'}]},
        {"role": "assistant", "content": [start["content_block"]]},
    ]
    ok = _body([{"type": "tool_result", "tool_use_id": tool_id, "content": [{"type": "text", "text": "written"}]}], history=turn)
    assert _text_of((await _post(standin, ok))[1]) == "tool result: written"
    denied = _body([{"type": "tool_result", "tool_use_id": tool_id, "content": "nope", "is_error": True}], history=turn)
    assert _text_of((await _post(standin, denied))[1]) == "tool denied: nope"


@pytest.mark.parametrize("status, etype", [(500, "api_error"), (529, "overloaded_error"), (429, "rate_limit_error")])
async def test_http_error_directive(standin: MessagesStandin, status: int, etype: str) -> None:
    got, body = await _post(standin, _body(f"#error {status}"))
    assert got == status and body["type"] == "error" and body["error"]["type"] == etype


async def test_http_long_markup_and_aux(standin: MessagesStandin) -> None:
    for n in (1, 12, 13, 61, 10000):
        assert len(long_text(n)) == n and long_text(n).endswith(END_MARKER[-n:])
    assert _text_of((await _post(standin, _body("#long 10000")))[1]) == long_text(10000)
    assert _text_of((await _post(standin, _body("#markup")))[1]) == MARKUP_TEXT
    # A title-generation request quotes the prompt; it is auxiliary and gets schema-shaped JSON.
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
    aux = _body("<session>\n#pwd\n</session>", tools=[], output_config={"format": {"type": "json_schema", "schema": schema}})
    assert isinstance(json.loads(_text_of((await _post(standin, aux))[1]))["title"], str)
    assert [r.is_main for r in standin.requests] == [True, True, False]


async def test_http_overrides(standin: MessagesStandin) -> None:
    standin.fail_next(529, count=2)
    assert (await _post(standin, _body("hi")))[0] == 529
    assert (await _post(standin, _body("hi")))[0] == 529
    assert (await _post(standin, _body("hi")))[0] == 200
    standin.script = lambda body: Reply.text_reply("scripted") if "script me" in json.dumps(body) else None
    assert _text_of((await _post(standin, _body("script me")))[1]) == "scripted"
    assert _text_of((await _post(standin, _body("not me")))[1]) == "echo: not me"
    standin.set_down(True)
    assert (await _post(standin, _body("hi")))[0] == 529
    standin.set_down(True, refuse=True)
    with pytest.raises(aiohttp.ClientError):
        await _post(standin, _body("hi"))
    standin.set_down(False)
    standin.close_next()
    with pytest.raises(aiohttp.ClientError):
        await _post(standin, _body("hi"))
    assert (await _post(standin, _body("hi")))[0] == 200
    async with aiohttp.ClientSession() as session:
        async with session.head(f"{standin.base_url}/api/hello") as resp:
            assert resp.status == 200
        async with session.get(f"{standin.base_url}/v1/whatever") as resp:
            assert resp.status == 404
    assert [o.path for o in standin.other_requests] == ["/api/hello", "/v1/whatever"]


async def test_http_slow_spreads_deltas_and_wait_for(standin: MessagesStandin) -> None:
    started = time.monotonic()
    task = asyncio.create_task(_post(standin, _body("#slow 0.6")))
    rec = await standin.wait_for(lambda: next(iter(standin.main_requests()), None), timeout=5)
    assert rec.directive == "slow" and not rec.finished
    await standin.wait_for(lambda s: s.main_requests()[0].finished, timeout=5)
    _, events = await task
    assert time.monotonic() - started >= 0.55
    assert sum(e == "content_block_delta" for e, _ in events) >= 10
    assert _text_of(events) == "echo: #slow 0.6"
    with pytest.raises(TimeoutError):
        await standin.wait_for(lambda: False, timeout=0.3)


# --------------------------------------------------------------------------- the real CLI

needs_cli = pytest.mark.skipif(not CLI_PATH.exists(), reason="bundled Claude Code CLI not installed")


def _options(standin: MessagesStandin, tmp_path: Path, **extra: Any) -> ClaudeAgentOptions:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return ClaudeAgentOptions(
        cwd=str(work),
        env=cli_env(tmp_path / "home", standin.base_url),
        permission_mode="bypassPermissions",
        cli_path=str(CLI_PATH),
        **extra,
    )


async def _turn(client: ClaudeSDKClient, prompt: str) -> tuple[str, ResultMessage]:
    await client.query(prompt)
    texts: list[str] = []
    result: ResultMessage | None = None
    async for message in client.receive_response():
        if isinstance(message, AssistantMessage):
            texts.extend(b.text for b in message.content if isinstance(b, TextBlock))
        elif isinstance(message, ResultMessage):
            result = message
    assert result is not None
    return "".join(texts), result


async def _timed_turn(client: ClaudeSDKClient, prompt: str) -> tuple[str, ResultMessage, float]:
    """The turn's text and result, and how many seconds it took."""
    started = time.monotonic()
    text, result = await _turn(client, prompt)
    return text, result, time.monotonic() - started


@needs_cli
async def test_cli_echo_with_usage_and_cost(standin: MessagesStandin, tmp_path: Path) -> None:
    async with ClaudeSDKClient(_options(standin, tmp_path)) as client:
        text, result, elapsed = await _timed_turn(client, "hello stand-in")
    assert text == "echo: hello stand-in" and result.result == "echo: hello stand-in"
    assert not result.is_error and result.usage and result.usage["input_tokens"] > 0
    assert result.total_cost_usd and result.total_cost_usd > 0
    assert elapsed < 10
    assert [r.last_user_text for r in standin.main_requests()] == ["hello stand-in"]
    assert standin.other_requests == []  # no connectivity probe / telemetry with cli_env
    print(f"one SDK turn: {elapsed:.2f} s")


@needs_cli
async def test_cli_pwd_runs_bash_in_cwd(standin: MessagesStandin, tmp_path: Path) -> None:
    options = _options(standin, tmp_path)
    async with ClaudeSDKClient(options) as client:
        text, result = await _turn(client, "[Chat: X | From: Y]\n#pwd")
    work = str(options.cwd)
    assert text.startswith("pwd: ") and (work in text or os.path.realpath(work) in text), text
    tool_turn = standin.main_requests()[-1]
    assert tool_turn.tool_results and not tool_turn.tool_results[0].get("is_error")
    assert result.num_turns == 2


@needs_cli
async def test_cli_history_survives_resume(standin: MessagesStandin, tmp_path: Path) -> None:
    async with ClaudeSDKClient(_options(standin, tmp_path)) as client:
        _, first = await _turn(client, "remember the word pineapple")
    answer: list[str] = []
    async for message in query(prompt="#history", options=_options(standin, tmp_path, resume=first.session_id)):
        if isinstance(message, ResultMessage):
            assert message.session_id == first.session_id
            answer.append(message.result or "")
    assert answer == ["history: remember the word pineapple | #history"]


@needs_cli
async def test_cli_long_reply_arrives_whole(standin: MessagesStandin, tmp_path: Path) -> None:
    async with ClaudeSDKClient(_options(standin, tmp_path)) as client:
        text, result = await _turn(client, "#long 10000")
    assert text == long_text(10000) and len(text) == 10000 and text.endswith(END_MARKER)
    assert result.result == text


@needs_cli
async def test_cli_error_is_bounded_and_next_turn_works(standin: MessagesStandin, tmp_path: Path) -> None:
    async with ClaudeSDKClient(_options(standin, tmp_path)) as client:
        text, result, elapsed = await _timed_turn(client, "#error 500")
        assert result.is_error and result.api_error_status == 500, result
        assert "500" in text
        assert elapsed < 20
        assert [r.status for r in standin.main_requests()] == [500, 500]  # CLAUDE_CODE_MAX_RETRIES=1
        # The CLI merges the unanswered prompt into the next user turn; the newest prompt still rules.
        text, result = await _turn(client, "after the error")
        assert text == "echo: after the error" and not result.is_error
        # A transient failure is retried by the CLI and the turn succeeds.
        standin.fail_next(529)
        text, result = await _turn(client, "retried")
        assert text == "echo: retried" and not result.is_error
        assert [r.status for r in standin.main_requests()[-2:]] == [529, 200]


@needs_cli
async def test_cli_slow_turn_can_be_interrupted(standin: MessagesStandin, tmp_path: Path) -> None:
    async with ClaudeSDKClient(_options(standin, tmp_path)) as client:
        await client.query("#slow 2")
        await standin.wait_for(lambda: any(r.directive == "slow" for r in standin.main_requests()), timeout=15)
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await client.interrupt()
        result: ResultMessage | None = None
        async for message in client.receive_response():
            if isinstance(message, ResultMessage):
                result = message
        assert result is not None and time.monotonic() - started < 5
        assert result.subtype == "error_during_execution" or result.terminal_reason == "aborted_streaming", result
        await standin.wait_for(lambda: standin.main_requests()[0].aborted, timeout=5)
        text, _ = await _turn(client, "still here")
    assert text == "echo: still here"
