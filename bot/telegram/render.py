"""Claude's Markdown → Telegram messages (plain text + entities), split to fit Telegram's limits.

Pure functions, no I/O. Offsets and limits are in UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import pyromark
from aiogram.types import MessageEntity
from telegramify_markdown import RenderConfig, convert, utf16_len
from telegramify_markdown.converter import STANDARD_OPTIONS

log = logging.getLogger(__name__)

MAX_TEXT = 4096
PREVIEW_LIMIT = 1500
DOCUMENT_NAME = "reply.md"
_PREVIEW_NOTE = f"📎 The full reply is attached as {DOCUMENT_NAME}."

# Our own symbol table, so a tweak to the library's global config elsewhere can't leak in.
_CONFIG = RenderConfig.isolated()
# Telegram rejects a message whose text_link is not a real URL; Claude Code often links
# repository paths ("bot/keys.py"), so those keep their text and lose only the link.
_LINK_SCHEMES = ("http://", "https://", "tg://")
# Escaping one tag can expose another (an HTML block's lines are re-read as a paragraph);
# real input settles in a pass or two.
_MAX_HTML_PASSES = 8


@dataclass(frozen=True)
class Rendered:
    """One Telegram message's worth: send ``text`` with ``entities`` and no parse_mode."""

    text: str
    entities: list[MessageEntity]


@dataclass(frozen=True)
class ReplyPlan:
    messages: list[Rendered]
    document: tuple[str, bytes] | None  # (filename, content) when the reply needs more than max_chunks messages


def render_markdown(md: str, limit: int = MAX_TEXT) -> list[Rendered]:
    """Render Markdown into messages of at most ``limit`` UTF-16 units; blank input gives []."""
    if not md.strip():
        return []
    return split_rendered(*_convert(md), limit)


def plan_reply(md: str, *, max_chunks: int = 4) -> ReplyPlan:
    """Messages for a final reply; past ``max_chunks`` messages, a preview plus the Markdown as a file."""
    if not md.strip():
        return ReplyPlan([], None)
    text, entities = _convert(md)
    messages = list(islice(_pieces(text, entities, MAX_TEXT), max_chunks + 1))  # enough to decide
    if len(messages) <= max_chunks:
        return ReplyPlan(messages, None)
    head = next(_pieces(text, entities, PREVIEW_LIMIT))
    note_at = utf16_len(head.text) + 2
    preview = Rendered(
        f"{head.text}\n\n{_PREVIEW_NOTE}",
        [*head.entities, MessageEntity(type="italic", offset=note_at, length=utf16_len(_PREVIEW_NOTE))],
    )
    return ReplyPlan([preview], (DOCUMENT_NAME, md.encode("utf-8")))


def split_rendered(text: str, entities: list[MessageEntity], limit: int = MAX_TEXT) -> list[Rendered]:
    """Split text + entities into messages of ≤ ``limit`` UTF-16 units.

    Cuts prefer paragraph breaks, then line breaks outside code blocks, then line breaks
    inside them; only a line longer than a message is cut mid-line. Entities crossing a cut
    are clipped into both parts, so a code block is closed in one message and reopened in
    the next. Whitespace at the cuts is dropped (Telegram would trim it anyway).
    """
    return list(_pieces(text, entities, limit))


def _pieces(text: str, entities: list[MessageEntity], limit: int) -> Iterator[Rendered]:
    units = _utf16_offsets(text)
    pre = [(e.offset, e.offset + e.length) for e in entities if e.type == "pre"]
    pending = deque(sorted(entities, key=lambda e: e.offset))
    live: list[MessageEntity] = []  # entities that may overlap the current range
    for start, end in _ranges(text, units, pre, limit):
        while pending and pending[0].offset < units[end]:
            live.append(pending.popleft())
        first, last = start, end
        while first < last and text[first] in "\r\n":
            first += 1
        while first < last and text[last - 1].isspace():
            last -= 1
        if first < last:
            yield Rendered(text[first:last], _clip(live, units[first], units[last]))
        live = [e for e in live if e.offset + e.length > units[end]]


def _ranges(text: str, units: list[int], pre: list[tuple[int, int]], limit: int) -> Iterator[tuple[int, int]]:
    start = 0
    while start < len(text):
        end = max(bisect_right(units, units[start] + limit) - 1, start + 1)
        if end >= len(text):
            yield start, len(text)
            return
        cut = _cut(text, units, pre, start, end)
        yield start, cut
        start = cut


def _cut(text: str, units: list[int], pre: list[tuple[int, int]], start: int, end: int) -> int:
    """Where to end a message that may run from ``start`` to at most ``end`` (string indices)."""
    # A cut in the first half of the room would leave a needlessly short message.
    floor = units[start] + (units[end] - units[start]) // 2

    def outside_code(cut: int) -> bool:
        return not any(a < units[cut] < b for a, b in pre)

    for sep, acceptable, use_floor in (
        ("\n\n", outside_code, True),
        ("\n", outside_code, True),
        ("\n", None, True),
        ("\n", None, False),
        (" ", None, True),
    ):
        search_end = end
        while (found := text.rfind(sep, start, search_end)) >= 0:
            cut = found + len(sep)
            if cut <= start or (use_floor and units[cut] < floor):
                break
            if acceptable is None or acceptable(cut):
                return cut
            search_end = found + len(sep) - 1
    return end


def _clip(entities: list[MessageEntity], start: int, end: int) -> list[MessageEntity]:
    """Entities overlapping [start, end) (UTF-16), cut to it and made relative to ``start``."""
    clipped = []
    for entity in entities:
        a, b = max(entity.offset, start), min(entity.offset + entity.length, end)
        if a < b:
            clipped.append(entity.model_copy(update={"offset": a - start, "length": b - a}))
    return clipped


def _utf16_offsets(text: str) -> list[int]:
    """offsets[i] is the UTF-16 offset of text[i]; offsets[len(text)] the total length."""
    offsets = [0] * (len(text) + 1)
    total = 0
    for i, char in enumerate(text):
        offsets[i] = total
        total += 2 if ord(char) > 0xFFFF else 1
    offsets[len(text)] = total
    return offsets


def _convert(md: str) -> tuple[str, list[MessageEntity]]:
    try:
        text, raw = convert(_escape_raw_html(md), config=_CONFIG)
    except Exception:  # a converter bug may cost the formatting, never the reply
        log.exception("Markdown conversion failed; sending the reply as plain text")
        return md, []
    if not text.strip():  # e.g. nothing but link definitions: the source beats an empty reply
        return md, []
    entities = [
        MessageEntity(**e.to_dict())
        for e in raw
        if e.type != "text_link" or (e.url or "").lower().startswith(_LINK_SCHEMES)
    ]
    entities.sort(key=lambda e: (e.offset, -e.length))
    return text, entities


def _escape_raw_html(md: str) -> str:
    """Backslash-escape the ``<`` of raw HTML, which the converter would silently drop.

    Claude writes ``List<String>`` or ``<div>`` in prose; as Markdown those are HTML tags,
    and Telegram can't show them, so they must come out as the literal text.
    """
    for _ in range(_MAX_HTML_PASSES):
        source = md.encode("utf-8")
        positions = _html_tag_starts(md, source)
        if not positions:
            break
        parts, last = [], 0
        for pos in positions:
            parts += [source[last:pos], b"\\"]
            last = pos
        parts.append(source[last:])
        md = b"".join(parts).decode("utf-8")
    return md


def _html_tag_starts(md: str, source: bytes) -> list[int]:
    """UTF-8 offsets of every ``<`` inside what the parser reads as raw HTML."""
    positions: set[int] = set()
    for payload, span in pyromark.events_with_range(md, options=STANDARD_OPTIONS):
        if isinstance(payload, dict) and ("Html" in payload or "InlineHtml" in payload):
            start = span["start"]
            positions.update(start + i for i, byte in enumerate(source[start : span["end"]]) if byte == ord("<"))
    return sorted(positions)
