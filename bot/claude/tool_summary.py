"""Short human descriptions of Claude's tool calls, for status lines and approval prompts."""

from __future__ import annotations

from typing import Any

from bot.util.text import shorten

_KEY_INPUTS = ("command", "file_path", "path", "pattern", "url", "query", "description", "prompt")


def describe_tool(name: str, tool_input: dict[str, Any], limit: int = 120) -> str:
    """`Bash: pwd`, `Edit: src/app.py`, `WebFetch: https://…`; the tool name alone if nothing fits."""
    for key in _KEY_INPUTS:
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return shorten(f"{name}: {value}", limit)
    return name
