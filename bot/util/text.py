"""Text helpers every room uses: HTML escaping, clipping with an ellipsis, durations, Telegram-sized parts."""

from __future__ import annotations

import html
import time

MESSAGE_LIMIT = 4096  # Telegram's limit for a message, in Unicode code points (tdlib's utf8_length)


def esc(value: object) -> str:
    """Escape a value for Telegram HTML (quotes need no escaping outside attributes)."""
    return html.escape(str(value), quote=False)


def counted(count: int, noun: str) -> str:
    """"1 file", "3 files": a count and its noun, plural by adding s (the bot's nouns all take one)."""
    return f"{count} {noun}{'s' if count != 1 else ''}"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; a cut text ends with "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten(text: str, limit: int) -> str:
    """One line (runs of whitespace become one space), clipped to `limit`."""
    return clip(" ".join(text.split()), limit)


def ago(timestamp: float, now: float | None = None) -> str:
    seconds = max(0, int((now or time.time()) - timestamp))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Plain text in parts of at most `limit` code points, broken at a newline (else a space) in a part's second half."""
    parts: list[str] = []
    while text:
        cut = min(len(text), limit)
        if cut == len(text):
            parts.append(text)
            break
        window = text[: cut + 1]  # a separator right at the limit is dropped, not sent
        gap = window.rfind("\n")
        if gap <= cut // 2:
            gap = window.rfind(" ")
        if gap > cut // 2:
            parts.append(text[:gap])
            text = text[gap + 1 :]
        else:
            parts.append(text[:cut])
            text = text[cut:]
    return [part for part in parts if part.strip()]
