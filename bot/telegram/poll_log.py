"""aiogram's polling log, made readable for an operator.

- 409 Conflict from getUpdates (another process polls with this token: a service and a `make run`
  in a terminal) is one line naming that cause, at most once a minute, instead of an error and a
  "Sleep for … and try again" line per attempt.
- "Update id=N is handled. Duration …" (one line per update, most of the log) is DEBUG.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

CONFLICT_EVERY = 60.0
CONFLICT = (
    "another process is polling Telegram with this bot's token (Telegram answers 409 Conflict and hands each "
    "message to only one of them); stop the other one (a service, a second `make run`), or give it its own bot"
)


class PollingLog(logging.Filter):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._said_at: float | None = None
        self._in_conflict = False

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.name == "aiogram.event" and message.startswith("Update id="):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        if record.name != "aiogram.dispatcher":
            return True
        if message.startswith("Failed to fetch updates - TelegramConflictError") and "webhook" not in message:
            self._in_conflict = True
            now = self._clock()
            if self._said_at is not None and now - self._said_at < CONFLICT_EVERY:
                return False
            self._said_at = now
            record.msg, record.args = CONFLICT, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            return True
        if self._in_conflict and message.startswith("Sleep for "):
            return False  # the back-off after a conflict: the line above said all
        if message.startswith("Connection established"):
            after_conflict, self._in_conflict = self._in_conflict, False
            return not after_conflict  # polling got through again: not news after a conflict
        if message.startswith("Failed to fetch updates"):
            self._in_conflict = False
        return True


def install() -> PollingLog:
    """On aiogram's loggers, so the rewritten lines reach every handler."""
    polling = PollingLog()
    for name in ("aiogram.dispatcher", "aiogram.event"):
        logging.getLogger(name).addFilter(polling)
    return polling
