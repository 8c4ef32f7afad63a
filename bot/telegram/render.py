"""Claude's Markdown → Telegram messages (plain text + entities), split to fit Telegram's limits.

Pure functions, no I/O. Entity offsets are UTF-16 code units; a message's length is counted in
Unicode code points (tdlib checks ``utf8_length(text) > message_text_length_max`` after parsing
entities), so an emoji costs one of the 4096, not two.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import pyromark
from aiogram.types import MessageEntity
from telegramify_markdown import RenderConfig, utf16_len
from telegramify_markdown.converter import EventWalker
from telegramify_markdown.entity import MessageEntity as _LibEntity

from bot.telegram.tables import format_table

log = logging.getLogger(__name__)

MAX_TEXT = 4096
PREVIEW_LIMIT = 1500
DOCUMENT_NAME = "reply.md"
_PREVIEW_NOTE = f"📎 The full reply is attached as {DOCUMENT_NAME}."

MAX_ENTITIES = 100  # Telegram ignores formatting past the 100th entity of a message
TAB_WIDTH = 4  # Telegram shows a tab as one space
# Our own symbol table, so a tweak to the library's global config elsewhere can't leak in.
_CONFIG = RenderConfig.isolated()
# The library's ☑ reads as "done"; an empty box and a check mark are told apart at a glance.
_CONFIG.markdown_symbol.task_uncompleted = "\N{WHITE LARGE SQUARE}"
_CONFIG.markdown_symbol.task_completed = "\N{WHITE HEAVY CHECK MARK}"
# No math ($HOME, $5) and no ||spoiler|| (a || b): in chat text those are literal characters.
_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH | pyromark.Options.ENABLE_TASKLISTS
_STRIKE_START = {"Start": "Strikethrough"}
# Telegram refuses a text_link whose URL has no real host (tdlib's LinkManager::get_checked_link):
# "bot/keys.py", "http://localhost:PORT", "${HOST}/x". Such a link keeps its text and shows the URL.
_URL_RE = re.compile(r"(?i)^(?:https?://(?:[^/?#@\s]*@)?([^/?#:\s]+)(?::\d{1,5})?(?:[/?#]\S*)?|tg://\S+)$")
_LABEL_RE = re.compile(r"^[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff-]*[A-Za-z0-9\u00a1-\uffff])?$")
# Formatting dropped first when a message holds more than MAX_ENTITIES; links never (their URL is content).
_DROP_ORDER = ("underline", "italic", "bold", "spoiler", "code", "blockquote", "expandable_blockquote", "strikethrough", "pre")
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


def text_len(text: str) -> int:
    """A message's length as Telegram limits it: Unicode code points."""
    return len(text)


# What Telegram treats as no text at all (tdlib's strip_empty_characters): these count as spaces...
_TD_SPACES = frozenset("\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                       "\u202e\u202f\u205f\u2800\u3000\ufffc")
_TD_TAGS = range(0xE0000, 0xE0080)  # tag characters (invisible) count as spaces too
# ...and a text made only of these (after trimming) is refused as empty ("message text is empty").
_TD_EMPTY = frozenset(" \n\u200b\u200c\u200d\u200e\u200f\u202e\ufeff\u00a0")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` as valid Unicode: a lone surrogate (a stream cut inside an emoji) becomes U+FFFD, which
    Telegram shows; a split pair is joined again. Without it the text can't even be encoded as UTF-8."""
    if not _SURROGATE_RE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def telegram_blank(text: str) -> bool:
    """Whether Telegram would refuse ``text`` as empty: nothing but spaces and invisible characters."""
    spaced = "".join(" " if c in _TD_SPACES or ord(c) in _TD_TAGS else c for c in text)
    return all(c in _TD_EMPTY for c in spaced.strip(" \t\r\n\0\v"))


def invisible_note(text: str) -> str:
    """A visible sentence for a reply Telegram would show as nothing: which characters it was made of."""
    counts: dict[str, int] = {}
    for char in text:
        if not char.isspace() or char in _TD_SPACES:
            counts[char] = counts.get(char, 0) + 1
    named = ", ".join(
        f"{n} × U+{ord(c):04X} {unicodedata.name(c, 'unnamed character')}" for c, n in counts.items()
    )
    return f"(Claude's reply is only invisible characters, which Telegram can't show: {named or 'spaces'}.)"


def render_markdown(md: str, limit: int = MAX_TEXT) -> list[Rendered]:
    """Render Markdown into messages of at most ``limit`` code points; blank input gives []."""
    md = valid_text(md)
    if not md.strip():
        return []
    text, entities = _convert(md)
    if telegram_blank(text):
        return [Rendered(invisible_note(md), [])]
    return split_rendered(text, entities, limit)


def plan_reply(md: str, *, max_chunks: int = 4) -> ReplyPlan:
    """Messages for a final reply; past ``max_chunks`` messages, a preview plus the Markdown as a file."""
    md = valid_text(md)
    if not md.strip():
        return ReplyPlan([], None)
    text, entities = _convert(md)
    if telegram_blank(text):
        return ReplyPlan([Rendered(invisible_note(md), [])], None)
    messages = list(islice(_pieces(text, entities, MAX_TEXT), max_chunks + 1))  # enough to decide
    if len(messages) <= max_chunks:
        return ReplyPlan(messages, None)
    head = next(_pieces(text, entities, PREVIEW_LIMIT))
    note_at = utf16_len(head.text) + 2  # an entity offset: UTF-16
    preview = Rendered(
        f"{head.text}\n\n{_PREVIEW_NOTE}",
        [*head.entities, MessageEntity(type="italic", offset=note_at, length=utf16_len(_PREVIEW_NOTE))],
    )
    return ReplyPlan([preview], (DOCUMENT_NAME, md.encode("utf-8")))


def split_rendered(text: str, entities: list[MessageEntity], limit: int = MAX_TEXT) -> list[Rendered]:
    """Split text + entities into messages of ≤ ``limit`` code points and ≤ MAX_ENTITIES entities.

    Cuts prefer paragraph breaks, then line breaks outside code blocks, then line breaks
    inside them; only a line longer than a message is cut mid-line. Entities crossing a cut
    are clipped into both parts, so a code block is closed in one message and reopened in
    the next. Whitespace at the cuts is dropped (Telegram would trim it anyway). A message
    with too many entities is cut before its 101st link and loses its least useful formatting.
    """
    return list(_pieces(text, entities, limit))


def _pieces(text: str, entities: list[MessageEntity], limit: int) -> Iterator[Rendered]:
    units = _utf16_offsets(text)
    pre = [(e.offset, e.offset + e.length) for e in entities if e.type == "pre"]
    # Entities never dropped (links: their URL is content), as string indices: at most 100 a message.
    kept = sorted(bisect_right(units, e.offset) - 1 for e in entities if e.type not in _DROP_ORDER)
    pending = deque(sorted(entities, key=lambda e: e.offset))
    live: list[MessageEntity] = []  # entities that may overlap the current range
    for start, end in _ranges(text, units, pre, kept, limit):
        while pending and pending[0].offset < units[end]:
            live.append(pending.popleft())
        first, last = start, end
        while first < last and text[first] in "\r\n":
            first += 1
        while first < last and text[last - 1].isspace():
            last -= 1
        if first < last:
            yield Rendered(text[first:last], _cap(_once(_clip(live, units[first], units[last]))))
        live = [e for e in live if e.offset + e.length > units[end]]


def _ranges(
    text: str, units: list[int], pre: list[tuple[int, int]], kept: list[int], limit: int
) -> Iterator[tuple[int, int]]:
    start = 0
    while start < len(text):
        end = start + limit
        first = bisect_right(kept, start - 1)
        if first + MAX_ENTITIES < len(kept):  # the 101st link starts the next message
            end = min(end, max(kept[first + MAX_ENTITIES], start + 1))
        if end >= len(text):
            yield start, len(text)
            return
        cut = _cut(text, units, pre, start, end)
        yield start, cut
        start = cut


def _cut(text: str, units: list[int], pre: list[tuple[int, int]], start: int, end: int) -> int:
    """Where to end a message that may run from ``start`` to at most ``end`` (string indices)."""
    # A cut in the first half of the room would leave a needlessly short message.
    floor = start + (end - start) // 2

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
            if cut <= start or (use_floor and cut < floor):
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


def _once(entities: list[MessageEntity]) -> list[MessageEntity]:
    """Each stretch of text formatted a way once: an entity inside another of the same kind (``__**x**__``,
    bold in a heading) is dropped, overlapping ones are joined; Telegram refuses the same entity twice."""
    kept: list[MessageEntity] = []
    for entity in sorted(entities, key=lambda e: (e.offset, -e.length)):
        same = next((k for k in kept if _same_kind(k, entity) and entity.offset < k.offset + k.length), None)
        if same is None:
            kept.append(entity)
        elif entity.offset + entity.length > same.offset + same.length:
            kept[kept.index(same)] = same.model_copy(update={"length": entity.offset + entity.length - same.offset})
    return kept


def _same_kind(a: MessageEntity, b: MessageEntity) -> bool:
    return (a.type, a.url, a.language, a.custom_emoji_id) == (b.type, b.url, b.language, b.custom_emoji_id)


def _cap(entities: list[MessageEntity]) -> list[MessageEntity]:
    """At most MAX_ENTITIES, dropping the least useful formatting, latest first."""
    excess = len(entities) - MAX_ENTITIES
    for kind in _DROP_ORDER:
        if excess <= 0:
            break
        drop = {id(e) for e in [e for e in reversed(entities) if e.type == kind][:excess]}
        entities = [e for e in entities if id(e) not in drop]
        excess -= len(drop)
    return entities[:MAX_ENTITIES]  # only a link cut in two can still be one too many


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
        source = _literal_tildes(_escape_raw_html(md))
        text, raw, _ = _Walker(_CONFIG, source).walk(tuple(pyromark.events_with_range(source, options=_OPTIONS)))
    except Exception:  # a converter bug may cost the formatting, never the reply
        log.exception("Markdown conversion failed; sending the reply as plain text")
        return md, []
    if not text.strip():  # e.g. nothing but link definitions: the source beats an empty reply
        return md, []
    entities = [MessageEntity(**e.to_dict()) for e in raw]
    for entity in entities:
        if entity.language:  # "python title=x.py" would be refused; Telegram takes one word
            entity.language = entity.language.split()[0]
    entities.sort(key=lambda e: (e.offset, -e.length))
    return text, entities


def url_accepted(url: str) -> bool:
    """Whether Telegram would take ``url`` for a text_link (a real host, a numeric port)."""
    m = _URL_RE.match(url.strip())
    if m is None:
        return False
    host = m.group(1)
    return host is None or all(_LABEL_RE.match(label) for label in host.split("."))


class _Walker(EventWalker):
    """The library's walker with our rules for links, code and tables."""

    def _on_text(self, text: str) -> None:
        super()._on_text(text.expandtabs(TAB_WIDTH) if self._in_code_block else text)

    def _on_inline_code(self, code: str) -> None:
        super()._on_inline_code(code.expandtabs(TAB_WIDTH))

    def _finalize_entity(self, scope) -> None:  # type: ignore[no-untyped-def]
        url = scope.url if scope.entity_type == "text_link" else None
        if url is None or (url_accepted(url) and not self._in_table_cell):
            super()._finalize_entity(scope)
            return
        # No link entity can carry this URL (refused, or inside a table): show it as text.
        if self._in_table_cell:
            shown = "".join(self._cell_parts)
        else:
            shown = self._buf.get_text().encode("utf-16-le")[scope.start_offset * 2 :].decode("utf-16-le")
        if url not in shown:
            self._on_text(f" ({url})")

    def _on_end_table(self) -> None:
        blocks = format_table(self._table_rows)
        for i, (block, mono) in enumerate(blocks):
            if i:
                self._buf.write("\n\n")
            start = self._buf.utf16_offset
            self._buf.write(block)
            if mono:
                self._entities.append(_LibEntity(type="pre", offset=start, length=self._buf.utf16_offset - start))
        self._table_rows = []
        self._mark_block_end()


def _literal_tildes(md: str) -> str:
    """Escape single-``~`` strikethrough ("~5 min ~ 10 min" means approximately), as the library does."""
    for _ in range(_MAX_HTML_PASSES):
        source = md.encode("utf-8")
        offsets = []
        for payload, span in pyromark.events_with_range(md, options=_OPTIONS):
            if payload == _STRIKE_START and source[span["start"] + 1 : span["start"] + 2] != b"~":
                offsets += (span["start"], span["end"] - 1)
        if not offsets:
            break
        bounds = [0, *sorted(offsets), len(source)]
        md = b"\\".join(source[a:b] for a, b in zip(bounds, bounds[1:])).decode("utf-8")
    return md


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
    for payload, span in pyromark.events_with_range(md, options=_OPTIONS):
        if isinstance(payload, dict) and ("Html" in payload or "InlineHtml" in payload):
            start = span["start"]
            positions.update(start + i for i, byte in enumerate(source[start : span["end"]]) if byte == ord("<"))
    return sorted(positions)
