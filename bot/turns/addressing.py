"""How a message reads to Claude: the bot's own @mention dropped, a reply's context quoted."""

from __future__ import annotations

QUOTE_CHARS = 300  # enough for "why did you say that?" to have its context, short enough to stay a quote


def without_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the given (offset, length) spans in UTF-16 units (Telegram's entity offsets)."""
    data = text.encode("utf-16-le")
    for offset, length in sorted(spans, reverse=True):
        data = data[: offset * 2] + data[(offset + length) * 2 :]
    kept = data.decode("utf-16-le")
    return "\n".join(" ".join(line.split()) for line in kept.splitlines()).strip()


def with_quote(prompt: str, quoted: str, author: str) -> str:
    """The prompt after a short quote of the message it replies to."""
    short = " ".join(quoted.split())
    if len(short) > QUOTE_CHARS:
        short = short[: QUOTE_CHARS - 1] + "…"
    return f"[Replying to {author}: “{short}”]\n{prompt}"
