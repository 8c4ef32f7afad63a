"""Conversation: one turn's SDK messages become typed events and one normalized outcome."""

from __future__ import annotations

from typing import Any

from claude_agent_sdk import AssistantMessage, ResultMessage, StreamEvent, SystemMessage, TextBlock, ToolUseBlock

from bot.claude.events import API_ERRORS, Conversation, Retrying, TextDelta, ToolStarted


def delta(text: str) -> StreamEvent:
    return StreamEvent(uuid="u", session_id="s", event={"type": "content_block_delta", "delta": {"type": "text_delta", "text": text}})


def text_block_starts() -> StreamEvent:
    return StreamEvent(uuid="u", session_id="s", event={"type": "content_block_start", "content_block": {"type": "text"}})


def result(**fields: Any) -> ResultMessage:
    base: dict[str, Any] = dict(subtype="success", duration_ms=1500, duration_api_ms=1, is_error=False, num_turns=1, session_id="sid")
    return ResultMessage(**{**base, **fields})


def feed(*messages: Any) -> tuple[list[Any], Conversation]:
    conversation = Conversation()
    events = [event for message in messages for event in conversation.feed(message)]
    return events, conversation


def test_streamed_text_tools_and_usage_become_events_and_one_outcome() -> None:
    events, conversation = feed(
        SystemMessage(subtype="init", data={"session_id": "sid"}),
        delta("Let me "),
        delta("look."),
        AssistantMessage(content=[TextBlock("Let me look."), ToolUseBlock("t1", "Bash", {"command": "ls"})], model="m"),
        text_block_starts(),
        delta("Done."),
        AssistantMessage(content=[TextBlock("Done.")], model="m"),
        result(
            total_cost_usd=0.25,
            usage={"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5, "output_tokens": 7},
            model_usage={"m": {"contextWindow": 200_000}},
        ),
    )
    assert events == [TextDelta("Let me "), TextDelta("look."), ToolStarted("Bash", {"command": "ls"}), TextDelta("\n\n"), TextDelta("Done.")]
    assert events[2].description == "Bash: ls"
    outcome = conversation.outcome()
    assert (outcome.text, outcome.session_id, outcome.error, outcome.finished) == ("Let me look.\n\nDone.", "sid", None, True)
    assert (outcome.input_tokens, outcome.output_tokens, outcome.context_tokens) == (115, 7, 122)
    assert (outcome.cumulative_cost, outcome.duration_ms, outcome.context_window) == (0.25, 1500, 200_000)


def test_text_that_was_not_streamed_is_shown_whole_and_subagent_steps_are_not() -> None:
    events, conversation = feed(
        AssistantMessage(content=[TextBlock("inner")], model="m", parent_tool_use_id="t1"),
        AssistantMessage(content=[TextBlock("One.")], model="m"),
        AssistantMessage(content=[TextBlock("Two.")], model="m"),
        result(),
    )
    assert events == [TextDelta("One."), TextDelta("\n\nTwo.")]
    assert conversation.outcome().text == "One.\n\nTwo."


def test_a_stopped_turn_is_no_error_and_a_failed_api_call_is_one_sentence() -> None:
    _, stopped = feed(AssistantMessage(content=[TextBlock("part")], model="m"), result(is_error=True, terminal_reason="aborted_streaming"))
    assert stopped.outcome().error is None and stopped.outcome().text == "part"
    _, overloaded = feed(AssistantMessage(content=[TextBlock("API Error: 529")], model="m", error="server_error"), result(is_error=True, api_error_status=529))
    assert overloaded.outcome().error == API_ERRORS["overloaded"] and overloaded.outcome().text == ""
    _, cut = feed(AssistantMessage(content=[TextBlock("API Error")], model="m", error="rate_limit"))
    assert cut.outcome().error == API_ERRORS["rate_limit"] and not cut.outcome().finished


def test_the_init_message_lists_claude_codes_commands_for_the_outcome() -> None:
    _, conversation = feed(
        SystemMessage(subtype="init", data={"session_id": "sid", "slash_commands": ["compact", "greet"], "skills": ["tidy"]}),
        result(),
    )
    outcome = conversation.outcome()
    assert (outcome.slash_commands, outcome.skills) == (["compact", "greet"], ["tidy"])
    _, without_init = feed(result())
    assert without_init.outcome().slash_commands is None


def test_retries_are_events_saying_why_and_a_refused_connection_is_never_a_server_error() -> None:
    def retry(status: int | None, error: str) -> SystemMessage:
        return SystemMessage(subtype="api_retry", data={"attempt": 2, "max_retries": 10, "retry_delay_ms": 2300, "error_status": status, "error": error})

    refused = "API Error: Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)"
    events, conversation = feed(retry(None, "unknown"), retry(429, "rate_limit"), retry(401, "authentication_failed"),
                                AssistantMessage(content=[TextBlock(refused)], model="<synthetic>", error="server_error"),
                                result(is_error=False))
    assert [event.sentence for event in events if isinstance(event, Retrying)] == [
        "Claude's API cannot be reached or dropped the connection; Claude Code retries in 2 s (attempt 2 of 10)",
        "Claude's API is rate limiting this bot; Claude Code retries in 2 s (attempt 2 of 10)",
        "Claude's API refuses the key; Claude Code retries in 2 s (attempt 2 of 10)",
    ]
    error = conversation.outcome().error
    assert error is not None and error.startswith("Claude's API could not be reached (the connection was refused)")
    _, dropped = feed(AssistantMessage(content=[TextBlock("API Error: Connection dropped (ECONNRESET).")], model="m", error="server_error"))
    assert dropped.outcome().error == API_ERRORS["server_error"]
