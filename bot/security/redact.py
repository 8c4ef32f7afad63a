"""No log line holds the bot token (nor a Claude key from the configuration file): a filter on every handler rewrites it out of each record.

aiohttp and aiogram put the request URL (`…/bot<token>/getMe`, `…/file/bot<token>/…`) into their
error messages, which then reach the log through `%s` arguments and tracebacks; the filter
redacts the token, its URL-encoded form and its secret half in the message, the exception text
and the stack.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType
from urllib.parse import quote

REDACTED = "<redacted>"


class RedactSecrets(logging.Filter):
    def __init__(self, token: str, others: Iterable[str] = ()) -> None:
        super().__init__()
        secret = token.partition(":")[2]
        forms = {token, quote(token, safe=""), quote(token), *others}
        if len(secret) >= 8:  # the part after the bot id is the secret itself
            forms.add(secret)
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


def install(token: str, logger: logging.Logger | None = None, others: Iterable[str] = ()) -> RedactSecrets:
    """Attach the filter to every handler of `logger` (the root logger): records of all loggers pass
    there. With the root logger, an uncaught exception's traceback is redacted too."""
    redact = RedactSecrets(token, others)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redact)
    if logger is None:
        def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
            sys.stderr.write(redact.redact("".join(traceback.format_exception(kind, exc, tb))))

        sys.excepthook = excepthook
    return redact
