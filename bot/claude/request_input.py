"""How much of a request's input its message can show: an input that does not fit is shown cut,
attached whole (the view does both) and never offered for "Always allow"."""

from __future__ import annotations

import difflib
import json
from typing import Any

SHOWN_LIMIT = 1500  # characters of a command, diff or file shown, so a request stays far below 4096
DIFF_LINES = 30


def diff_lines(old: str, new: str) -> list[str]:
    """A unified diff of an edit, without file headers."""
    return [
        line
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1)
        if not line.startswith(("---", "+++"))
    ]


def full_input(tool_name: str, tool_input: dict[str, Any]) -> str:
    """The whole input of a request, as attached when the message cannot show all of it."""
    if tool_name == "Bash" and isinstance(tool_input.get("command"), str):
        return tool_input["command"]
    return json.dumps(tool_input, ensure_ascii=False, indent=1)


def input_fits(tool_name: str, tool_input: dict[str, Any]) -> bool:
    """Whether the request message shows the whole input (else it is cut and attached)."""
    path = tool_input.get("file_path") or tool_input.get("notebook_path")
    if tool_name == "Bash" and isinstance(tool_input.get("command"), str):
        return len(tool_input["command"]) <= SHOWN_LIMIT
    if tool_name in ("Edit", "MultiEdit") and isinstance(path, str):
        edits = [tool_input] if tool_name == "Edit" else [e for e in tool_input.get("edits") or [] if isinstance(e, dict)]
        diffs = [diff_lines(str(e.get("old_string", "")), str(e.get("new_string", ""))) for e in edits]
        shown = "\n".join("\n".join(lines) for lines in diffs)
        return all(len(lines) <= DIFF_LINES for lines in diffs) and len(shown) <= SHOWN_LIMIT
    if tool_name == "Write" and isinstance(path, str):
        return len(str(tool_input.get("content", ""))) <= SHOWN_LIMIT
    return len(full_input(tool_name, tool_input)) <= SHOWN_LIMIT
