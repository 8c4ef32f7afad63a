"""No log line holds a secret: a filter on every handler rewrites each one out of each record.

aiohttp and aiogram put the request URL (`…/bot<token>/getMe`, `…/file/bot<token>/…`) into their
error messages, which then reach the log through `%s` arguments and tracebacks; the filter
redacts every secret the bot knows (the token, the transcription key, the webhook secret,
Claude Code's API key or OAuth token: bot.config.Settings.secrets), its URL-encoded forms and,
for `id:secret` shapes such as the token, its secret half, in the message, the exception text
and the stack.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType
from urllib.parse import quote

REDACTED = "<redacted>"


MIN_SECRET = 8  # shorter values (a test's "1:x") would blank out ordinary words


class RedactSecrets(logging.Filter):
    def __init__(self, *secrets: str) -> None:
        super().__init__()
        forms: set[str] = set()
        for value in secrets:
            half = value.partition(":")[2]
            for secret in (value, half if len(half) >= MIN_SECRET else ""):  # after the bot id: the secret itself
                forms.update({secret, quote(secret, safe=""), quote(secret)})
        self._forms = sorted((form for form in forms if form), key=len, reverse=True)
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install(*secrets: str, logger: logging.Logger | None = None) -> RedactSecrets:
    """Attach the filter to every handler of `logger` (the root logger): records of all loggers pass
    there. With the root logger, an uncaught exception's traceback is redacted too."""
    redact = RedactSecrets(*secrets)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redact)
    if logger is None:
        def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
            sys.stderr.write(redact.redact("".join(traceback.format_exception(kind, exc, tb))))

        sys.excepthook = excepthook
    return redact
