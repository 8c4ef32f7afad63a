"""Why Claude Code failed, in one sentence for the chat; its stderr kept for the log in full."""

from __future__ import annotations

import logging
from collections import deque

from bot.claude.cli_limits import ROOT_BYPASS_REASON

log = logging.getLogger("claude.cli")

STDERR_LINES = 60


class StderrTail:
    """The CLI's last stderr lines (all CLIs together): logged in full when one fails to start."""

    def __init__(self, size: int = STDERR_LINES) -> None:
        self._lines: deque[str] = deque(maxlen=size)

    def __call__(self, line: str) -> None:
        line = line.rstrip()
        log.debug("%s", line)
        self._lines.append(line)

    def text(self) -> str:
        return "\n".join(self._lines)


def api_error_sentence(api_error: str | None, model: str | None) -> str | None:
    """A sentence for a failure the CLI names that the runner's own table does not cover."""
    if api_error == "model_not_found":
        name = model or "chosen"
        return f"Claude's API does not know the model {name} (or this account may not use it); choose another with /model."
    return None


def start_failure_sentence(stderr: str) -> str:
    """What the chat hears when Claude Code could not be started, from what the CLI said on stderr."""
    if "cannot be used with root/sudo privileges" in stderr:
        return f"{ROOT_BYPASS_REASON}; choose another mode with /mode."
    return "Claude Code could not be started; the operator should check the bot's log."
