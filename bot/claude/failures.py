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


# How the CLI words a connection that never reached the API ("API Error: Connection refused … (ECONNREFUSED)");
# a connection dropped mid-answer (ECONNRESET) did reach it, and stays the server's fault.
NO_CONNECTION = (
    ("ECONNREFUSED", "the connection was refused"),
    ("Connection refused", "the connection was refused"),
    ("ENOTFOUND", "its host name was not found"),
    ("EAI_AGAIN", "its host name was not found"),
    ("ETIMEDOUT", "the connection timed out"),
    ("timed out", "the connection timed out"),
    ("Unable to connect", "no connection could be made"),
    ("Connection error", "no connection could be made"),
)


def connection_sentence(said: str) -> str | None:
    """The chat's sentence when the CLI's own error text says the API was never reached; else None."""
    for marker, what in NO_CONNECTION:
        if marker in said:
            return f"Claude's API could not be reached ({what}); the operator should check the network, a proxy or ANTHROPIC_BASE_URL."
    return None


def retry_reason(status: int | None, error: str | None) -> str:
    """Why Claude Code retries a request, from its api_retry message (HTTP status, error kind)."""
    if status == 529 or error == "overloaded":
        return "Claude's API is overloaded"
    if status == 429 or error == "rate_limit":
        return "Claude's API is rate limiting this bot"
    if status in (401, 403) or error == "authentication_failed":
        return "Claude's API refuses the key"
    if status is not None and status >= 500:
        return f"Claude's API answered with a server error ({status})"
    if status is None:
        return "Claude's API cannot be reached or dropped the connection"
    return f"Claude's API answered {status}"


def retry_sentence(status: int | None, error: str | None, attempt: int, max_retries: int, delay_ms: float) -> str:
    return (
        f"{retry_reason(status, error)}; Claude Code retries in {max(delay_ms, 0) / 1000:.0f} s "
        f"(attempt {attempt} of {max_retries})"
    )
