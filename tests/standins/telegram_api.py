"""A strict, in-process stand-in for the Telegram Bot API.

The real bot process talks to it over HTTP exactly as it talks to api.telegram.org
(``TelegramAPIServer.from_base(standin.base_url)``), so tests exercise the real
aiogram request encoding, the real error classes and the real retry paths.

Where Telegram is strict the stand-in is strict with Telegram's wording: the HTML,
MarkdownV2 and legacy Markdown parsers are ports of tdlib's ``parse_html``,
``parse_markdown_v2`` and ``parse_markdown`` (td/telegram/MessageEntity.cpp), the
error descriptions follow telegram-bot-api's ``fail_query_with_error`` (``Bad Request:``
prefix, first letter lower-cased), and message length is counted in Unicode code points
after entity parsing and trimming (tdlib: ``utf8_length(text) > message_text_length_max``);
entity offsets are UTF-16 code units.

A few checks are deliberately *stricter* than Telegram because what they catch is a
bug even when Telegram lets it through (each is marked "stand-in strictness"):
a bare ``&`` in HTML (Telegram shows it literally, but it means the text was not
escaped, so ``a &lt b`` would render as ``a < b``), entities beyond the end of the
text (Telegram silently truncates them), and inline buttons with several actions
(Telegram silently uses the first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import mimetypes
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from types import EllipsisType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.standins.served import Served

T = TypeVar("T")

__all__ = [
    "BotMessage",
    "Call",
    "Entity",
    "ParseError",
    "TelegramStandin",
    "UserMessage",
    "parse_formatted_text",
    "utf16_len",
]


# ---------------------------------------------------------------------------
# Text entities and the three parse modes (ports of tdlib)
# ---------------------------------------------------------------------------


class ParseError(Exception):
    """A parse-mode error; the Bot API reports it as ``Bad Request: can't parse entities: <msg>``."""


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Entity:
    """A MessageEntity in Bot API terms (type names as in the Bot API JSON)."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    user_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"offset": self.offset, "length": self.length, "type": self.type}
        if self.url is not None:
            out["url"] = self.url
        if self.language:
            out["language"] = self.language
        if self.custom_emoji_id is not None:
            out["custom_emoji_id"] = self.custom_emoji_id
        if self.user_id is not None:
            out["user"] = {"id": self.user_id, "is_bot": False, "first_name": ""}
        return out


# tdlib's MessageEntity::get_type_priority, used to sort entities deterministically
# so that "is this edit a no-op" compares like Telegram does.
_PRIORITY = {
    "mention": 50, "hashtag": 50, "cashtag": 50, "bot_command": 50, "url": 50, "email": 50,
    "phone_number": 50, "bold": 90, "italic": 91, "code": 20, "pre": 11, "text_link": 49,
    "text_mention": 49, "underline": 92, "strikethrough": 93, "blockquote": 0,
    "expandable_blockquote": 0, "spoiler": 94, "custom_emoji": 99,
}
KNOWN_ENTITY_TYPES = frozenset(_PRIORITY)


def _sort_entities(entities: Iterable[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e.offset, -e.length, _PRIORITY.get(e.type, 100), e.type))


# tdlib type names as they appear in "Can't find end of <Type> entity" messages.
_TD_TO_BOTAPI = {
    "Bold": "bold", "Italic": "italic", "Underline": "underline", "Strikethrough": "strikethrough",
    "Spoiler": "spoiler", "Code": "code", "Pre": "pre", "PreCode": "pre", "TextUrl": "text_link",
    "CustomEmoji": "custom_emoji", "BlockQuote": "blockquote",
    "ExpandableBlockQuote": "expandable_blockquote",
}

_LF, _CR, _BS = 0x0A, 0x0D, 0x5C


def _pre_start(t: _Bytes, i: int) -> tuple[str, int]:
    """After the ``` of a code block: its language ("" if none) and where its text starts
    (one new line at the beginning of the block is skipped)."""
    language = ""
    language_end = i
    while not _is_space(t[language_end]) and t[language_end] != ord("`"):
        language_end += 1
    if i != language_end and language_end < t.n and t[language_end] != ord("`"):
        language = t.b[i:language_end].decode("utf-8", "replace")
        i = language_end
    if t[i] in (_LF, _CR):
        if t[i + 1] in (_LF, _CR) and t[i] != t[i + 1]:
            i += 2
        else:
            i += 1
    return language, i


def _is_space(b: int) -> bool:
    # td::is_space; 0 stands for "past the end" exactly as the NUL terminator does in tdlib.
    return b in (0x20, 0x09, 0x0D, 0x0A, 0x00, 0x0B)


def _utf16_units(b: int) -> int:
    """UTF-16 units contributed by a UTF-8 byte (continuation bytes contribute 0)."""
    if b & 0xC0 == 0x80:
        return 0
    return 2 if b >= 0xF0 else 1


class _Bytes:
    """UTF-8 bytes with tdlib's "reading past the end yields NUL" semantics."""

    def __init__(self, text: str) -> None:
        self.b = text.encode("utf-8")
        self.n = len(self.b)

    def __getitem__(self, i: int) -> int:
        return self.b[i] if 0 <= i < self.n else 0


_TG_USER_RE = re.compile(r"(?i)^tg://user\?id=(\d+)$")
_EMOJI_URL_RE = re.compile(r"(?i)^tg://emoji\?id=(\d+)$")
_HOST_RE = re.compile(r"^[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff-]*[A-Za-z0-9\u00a1-\uffff])?$")


def _link_user_id(url: str) -> int | None:
    m = _TG_USER_RE.match(url.strip())
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def checked_link(url: str) -> str | None:
    """Rough LinkManager::get_checked_link: the normalised URL, or None when Telegram would reject it."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", url)
    if m:
        scheme, rest = m.group(1).lower(), m.group(2)
        if scheme in ("tg", "ton"):
            return url if rest else None
        if scheme not in ("http", "https"):
            return None
        host_part = rest
        needs_dot = False
    else:
        if url.lower().startswith(("javascript:", "data:", "mailto:", "file:")):
            return None
        host_part = url
        needs_dot = True
    host = re.split(r"[/?#]", host_part, maxsplit=1)[0]
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    host = re.sub(r":\d{1,5}$", "", host)
    labels = host.split(".")
    if not host or any(not _HOST_RE.match(label) for label in labels):
        return None
    if needs_dot and len(labels) < 2:
        return None
    return url if m else "http://" + url


def _custom_emoji_id(url: str) -> str:
    m = _EMOJI_URL_RE.match(url)
    if not m or int(m.group(1)) == 0:
        raise ParseError("Invalid custom emoji identifier specified")
    return m.group(1)


def _link_entity(offset: int, length: int, url: str) -> Entity | None:
    user_id = _link_user_id(url)
    if user_id is not None:
        return Entity("text_mention", offset, length, user_id=user_id)
    checked = checked_link(url)
    return Entity("text_link", offset, length, url=checked) if checked else None


def _decode_out(out: bytearray) -> str:
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None


# --- HTML -------------------------------------------------------------------

_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
     "span", "pre", "code", "blockquote"}
)
_NAMED_HTML_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}


def _decode_html_entity(t: _Bytes, pos: int) -> tuple[int, int]:
    """tdlib decode_html_entity: (code point, position after it), or (0, pos) if not an entity."""
    end = pos + 1
    res = 0
    if t[pos + 1] == ord("#"):
        end += 1
        if t[pos + 2] == ord("x"):
            end += 1
            while chr(t[end]) in "0123456789abcdefABCDEF" and t[end]:
                res = res * 16 + int(chr(t[end]), 16)
                end += 1
        else:
            while 0x30 <= t[end] <= 0x39:
                res = res * 10 + t[end] - 0x30
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(t[end]).isascii() and chr(t[end]).isalpha():
            end += 1
        res = _NAMED_HTML_ENTITIES.get(t.b[pos + 1 : end], 0)
        if res == 0:
            return 0, pos
    if t[end] == ord(";"):
        end += 1
    return res, end


@dataclass
class _HtmlOpen:
    tag: str
    argument: str
    offset: int
    begin_pos: int


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[Entity]]:
    """Port of tdlib parse_html. Returns (plain text, entities) or raises ParseError."""
    t = _Bytes(text)
    out = bytearray()
    entities: list[Entity] = []
    nested: list[_HtmlOpen] = []
    utf16 = 0
    i = 0
    while i < t.n:
        c = t.b[i]
        if c == ord("&"):
            code, end = _decode_html_entity(t, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                out += chr(code).encode("utf-8", "surrogatepass")
                i = end
                continue
            if strict_ampersand:
                # stand-in strictness: Telegram keeps an unknown '&' literally, but its presence
                # means the text was not HTML-escaped.
                raise ParseError(
                    f"Character '&' at byte offset {i} must be escaped as &amp; "
                    "(stand-in strictness: Telegram would show it literally)"
                )
        if c != ord("<"):
            utf16 += _utf16_units(c)
            out.append(c)
            i += 1
            continue

        begin_pos = i
        i += 1
        if t[i] != ord("/"):
            # a start tag
            while not _is_space(t[i]) and t[i] != ord(">"):
                i += 1
            if t[i] == 0:
                raise ParseError(f"Unclosed start tag at byte offset {begin_pos}")
            tag = t.b[begin_pos + 1 : i].lower().decode("utf-8", "replace")
            if tag not in _HTML_TAGS:
                raise ParseError(f'Unsupported start tag "{tag}" at byte offset {begin_pos}')
            argument = ""
            while t[i] != ord(">"):
                while t[i] != 0 and _is_space(t[i]):
                    i += 1
                if t[i] == ord(">"):
                    break
                attr_begin = i
                while not _is_space(t[i]) and t[i] not in b"=>/\"'":
                    i += 1
                attr_name = t.b[attr_begin:i]
                if not attr_name:
                    raise ParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin_pos}')
                while t[i] != 0 and _is_space(t[i]):
                    i += 1
                if t[i] != ord("="):
                    if t[i] == 0:
                        raise ParseError(f'Unclosed start tag "{tag}" at byte offset {begin_pos}')
                    if tag == "blockquote" and attr_name == b"expandable":
                        argument = "1"
                    continue
                i += 1
                while t[i] != 0 and _is_space(t[i]):
                    i += 1
                if t[i] == 0:
                    raise ParseError(f'Unclosed start tag "{tag}" at byte offset {begin_pos}')
                if t[i] not in (ord("'"), ord('"')):
                    # an unquoted name token: letters, digits, periods or hyphens
                    token_begin = i
                    while chr(t[i]).isascii() and (chr(t[i]).isalnum() or t[i] in b".-") and t[i]:
                        i += 1
                    value = t.b[token_begin:i].lower().decode("utf-8", "replace")
                    if not _is_space(t[i]) and t[i] != ord(">"):
                        raise ParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = t[i]
                    i += 1
                    raw = bytearray()
                    while t[i] != quote and t[i] != 0:
                        if t[i] == ord("&"):
                            code, end = _decode_html_entity(t, i)
                            if code:
                                raw += chr(code).encode("utf-8", "surrogatepass")
                                i = end
                                continue
                        raw.append(t[i])
                        i += 1
                    if t[i] == quote:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if t[i] == 0:
                    raise ParseError(f"Unclosed start tag at byte offset {begin_pos}")
                if tag == "a" and attr_name == b"href":
                    argument = value
                elif tag == "code" and attr_name == b"class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_name == b"class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == b"emoji-id":
                    argument = value
                elif tag == "blockquote" and attr_name == b"expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin_pos}')
            nested.append(_HtmlOpen(tag, argument, utf16, len(out)))
            i += 1
            continue

        # an end tag
        if not nested:
            raise ParseError(f"Unexpected end tag at byte offset {begin_pos}")
        while not _is_space(t[i]) and t[i] != ord(">"):
            i += 1
        end_tag = t.b[begin_pos + 2 : i].lower().decode("utf-8", "replace")
        while _is_space(t[i]) and t[i] != 0:
            i += 1
        if t[i] != ord(">"):
            raise ParseError(f"Unclosed end tag at byte offset {begin_pos}")
        top = nested[-1]
        if end_tag and end_tag != top.tag:
            raise ParseError(
                f'Unmatched end tag at byte offset {begin_pos}, expected "</{top.tag}>", found "</{end_tag}>"'
            )
        if utf16 > top.offset:
            off, length = top.offset, utf16 - top.offset
            tag = top.tag
            if tag in ("i", "em"):
                entities.append(Entity("italic", off, length))
            elif tag in ("b", "strong"):
                entities.append(Entity("bold", off, length))
            elif tag in ("s", "strike", "del"):
                entities.append(Entity("strikethrough", off, length))
            elif tag in ("u", "ins"):
                entities.append(Entity("underline", off, length))
            elif tag in ("tg-spoiler", "span"):
                entities.append(Entity("spoiler", off, length))
            elif tag == "tg-emoji":
                if not top.argument.isdigit() or int(top.argument) == 0 or int(top.argument) >= 2**63:
                    raise ParseError("Invalid custom emoji identifier specified")
                entities.append(Entity("custom_emoji", off, length, custom_emoji_id=top.argument))
            elif tag == "a":
                url = top.argument or out[top.begin_pos :].decode("utf-8", "replace")
                link = _link_entity(off, length, url)
                if link is not None:
                    entities.append(link)
            elif tag == "pre":
                last = entities[-1] if entities else None
                if last and last.type == "code" and (last.offset, last.length) == (off, length) and last.language:
                    entities[-1] = Entity("pre", off, length, language=last.language)
                else:
                    entities.append(Entity("pre", off, length))
            elif tag == "code":
                last = entities[-1] if entities else None
                if last and last.type == "pre" and (last.offset, last.length) == (off, length) and top.argument:
                    entities[-1] = Entity("pre", off, length, language=top.argument)
                else:
                    # the language is kept only while a <pre> may still wrap this <code>
                    entities.append(Entity("code", off, length, language=top.argument or None))
            elif tag == "blockquote":
                kind = "expandable_blockquote" if top.argument else "blockquote"
                entities.append(Entity(kind, off, length))
        nested.pop()
        i += 1
    if nested:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1].tag}"')
    entities = [replace(e, language=None) if e.type == "code" else e for e in entities]
    return _decode_out(out), _sort_entities(entities)


# --- MarkdownV2 ---------------------------------------------------------------


@dataclass
class _MdOpen:
    type: str  # tdlib type name (Bold, Italic, ...)
    argument: str
    offset: int  # UTF-16 offset in the output
    byte_offset: int  # byte offset in the input, for error messages
    begin_pos: int  # byte position in the output


def _reserved(ch: int) -> ParseError:
    return ParseError(f"Character '{chr(ch)}' is reserved and must be escaped with the preceding '\\'")


def _read_md_url(t: _Bytes, i: int) -> tuple[str, int]:
    """Reads a (...) URL with '\\' escapes starting at i; returns (url, index of ')' or n)."""
    url = bytearray()
    while i < t.n and t.b[i] != ord(")"):
        if t.b[i] == _BS and 0 < t[i + 1] <= 126:
            url.append(t[i + 1])
            i += 2
            continue
        url.append(t.b[i])
        i += 1
    return url.decode("utf-8", "replace"), i


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """Port of tdlib parse_markdown_v2 (including blockquotes and expandable blockquotes)."""
    t = _Bytes(text)
    out = bytearray()
    entities: list[Entity] = []
    nested: list[_MdOpen] = []
    utf16 = 0
    have_blockquote = False
    can_start_blockquote = True
    i = -1
    while (i := i + 1) < t.n:
        c = t.b[i]
        if c == _BS and 0 < t[i + 1] <= 126:
            i += 1
            utf16 += 1
            out.append(t.b[i])
            if t.b[i] != _CR:
                can_start_blockquote = t.b[i] == _LF
            continue

        reserved = b"_*[]()~`>#+-=|{}.!\n"
        if nested and nested[-1].type in ("Code", "Pre", "PreCode"):
            reserved = b"`"
        if c not in reserved:
            units = _utf16_units(c)
            if units:
                utf16 += units
                if c != _CR:
                    can_start_blockquote = False
            out.append(c)
            continue

        is_end = False
        if nested:
            if have_blockquote and c == _LF and (i + 1 == t.n or t.b[i + 1] != ord(">")):
                is_end = True
            else:
                top_type = nested[-1].type
                is_end = {
                    "Bold": c == ord("*"),
                    "Italic": c == ord("_") and t[i + 1] != ord("_"),
                    "Code": c == ord("`"),
                    "Pre": c == ord("`") and t[i + 1] == ord("`") and t[i + 2] == ord("`"),
                    "PreCode": c == ord("`") and t[i + 1] == ord("`") and t[i + 2] == ord("`"),
                    "TextUrl": c == ord("]"),
                    "Underline": c == ord("_") and t[i + 1] == ord("_"),
                    "Strikethrough": c == ord("~"),
                    "Spoiler": c == ord("|") and t[i + 1] == ord("|"),
                    "CustomEmoji": c == ord("]"),
                    "BlockQuote": False,
                }[top_type]

        if not is_end:
            # the beginning of an entity
            argument = ""
            byte_offset = i
            kind: str | None
            if c == ord("_"):
                if t[i + 1] == ord("_"):
                    kind = "Underline"
                    i += 1
                else:
                    kind = "Italic"
            elif c == ord("*"):
                kind = "Bold"
            elif c == ord("~"):
                kind = "Strikethrough"
            elif c in (ord("|"), ord("!")):  # "||" opens a spoiler, "![" a custom emoji
                if t[i + 1] != (ord("|") if c == ord("|") else ord("[")):
                    raise _reserved(c)
                i += 1
                kind = "Spoiler" if c == ord("|") else "CustomEmoji"
            elif c == ord("["):
                kind = "TextUrl"
            elif c == ord("`"):
                if t[i + 1] == ord("`") and t[i + 2] == ord("`"):
                    argument, i = _pre_start(t, i + 3)
                    kind = "PreCode" if argument else "Pre"
                    i -= 1
                else:
                    kind = "Code"
            elif c == _LF:
                utf16 += 1
                out.append(_LF)
                can_start_blockquote = True
                kind = None
            elif c == ord(">"):
                if not can_start_blockquote:
                    raise _reserved(c)
                if have_blockquote:
                    kind = None  # a continuation line of the current quote
                else:
                    kind = "BlockQuote"
                    have_blockquote = True
            else:
                raise _reserved(c)
            if kind is None:
                continue
            nested.append(_MdOpen(kind, argument, utf16, byte_offset, len(out)))
            continue

        # the end of an entity
        kind = nested[-1].type
        if c == _LF and kind != "BlockQuote":
            top = nested[-1]
            # "||" right before the end of a quote marks it expandable
            if kind != "Spoiler" or not (
                top.byte_offset == i - 2 or (top.byte_offset == i - 3 and out and out[-1] == _CR)
            ):
                raise ParseError(f"Can't find end of {kind} entity at byte offset {top.byte_offset}")
            nested.pop()
            kind = nested[-1].type
            if kind != "BlockQuote":
                raise ParseError(f"Can't find end of {kind} entity at byte offset {nested[-1].byte_offset}")
            kind = "ExpandableBlockQuote"
        top = nested[-1]
        argument = top.argument
        skip = utf16 == top.offset
        link: Entity | None = None
        emoji_id: str | None = None
        if kind in ("Underline", "Spoiler"):
            i += 1
        elif kind in ("Pre", "PreCode"):
            i += 2
        elif kind == "TextUrl":
            if t[i + 1] != ord("("):
                url = out[top.begin_pos :].decode("utf-8", "replace")
            else:
                i += 2
                url_begin = i
                url, i = _read_md_url(t, i)
                if t[i] != ord(")"):
                    raise ParseError(f"Can't find end of a URL at byte offset {url_begin}")
            link = _link_entity(top.offset, utf16 - top.offset, url)
            if link is None:
                skip = True
        elif kind == "CustomEmoji":
            if t[i + 1] != ord("("):
                raise ParseError("Custom emoji entity must contain a tg://emoji URL")
            i += 2
            url_begin = i
            url, i = _read_md_url(t, i)
            if t[i] != ord(")"):
                raise ParseError(f"Can't find end of a custom emoji URL at byte offset {url_begin}")
            emoji_id = _custom_emoji_id(url)
        elif kind in ("BlockQuote", "ExpandableBlockQuote"):
            have_blockquote = False
            out.append(t.b[i])
            can_start_blockquote = True
            utf16 += 1
            skip = False
        if not skip:
            length = utf16 - top.offset
            if link is not None:
                entities.append(link)
            elif kind == "CustomEmoji":
                entities.append(Entity("custom_emoji", top.offset, length, custom_emoji_id=emoji_id))
            elif kind == "PreCode":
                entities.append(Entity("pre", top.offset, length, language=argument))
            else:
                entities.append(Entity(_TD_TO_BOTAPI[kind], top.offset, length))
        nested.pop()

    if have_blockquote:
        kind = "BlockQuote"
        if nested[-1].type == "Spoiler" and nested[-1].byte_offset == t.n - 2:
            nested.pop()
            kind = "ExpandableBlockQuote"
        if nested[-1].type == "BlockQuote":
            length = utf16 - nested[-1].offset
            if length:
                entities.append(Entity(_TD_TO_BOTAPI[kind], nested[-1].offset, length))
            nested.pop()
    if nested:
        raise ParseError(f"Can't find end of {nested[-1].type} entity at byte offset {nested[-1].byte_offset}")
    return out.decode("utf-8", "replace"), _sort_entities(entities)


# --- legacy Markdown ----------------------------------------------------------


def parse_markdown_legacy(text: str) -> tuple[str, list[Entity]]:
    """Port of tdlib parse_markdown (parse_mode "Markdown")."""
    t = _Bytes(text)
    out = bytearray()
    entities: list[Entity] = []
    utf16 = 0
    i = -1
    while (i := i + 1) < t.n:
        c = t.b[i]
        if c == _BS and t[i + 1] in b"_*`[" and t[i + 1]:
            i += 1
            out.append(t.b[i])
            utf16 += 1
            continue
        if c not in b"_*`[":
            utf16 += _utf16_units(c)
            out.append(c)
            continue
        begin_pos = i
        end_char = ord("]") if c == ord("[") else c
        is_pre = False
        i += 1
        language = ""
        if c == ord("`") and t[i] == ord("`") and t[i + 1] == ord("`"):
            is_pre = True
            language, i = _pre_start(t, i + 2)
        entity_offset = utf16
        while i < t.n and (
            t[i] != end_char or (is_pre and not (t[i + 1] == ord("`") and t[i + 2] == ord("`")))
        ):
            utf16 += _utf16_units(t.b[i])
            out.append(t.b[i])
            i += 1
        if i >= t.n:
            raise ParseError(f"Can't find end of the entity starting at byte offset {begin_pos}")
        if entity_offset != utf16:
            length = utf16 - entity_offset
            if c == ord("_"):
                entities.append(Entity("italic", entity_offset, length))
            elif c == ord("*"):
                entities.append(Entity("bold", entity_offset, length))
            elif c == ord("["):
                if t[i + 1] != ord("("):
                    url = t.b[begin_pos + 1 : i].decode("utf-8", "replace")
                else:
                    i += 2
                    start = i
                    while i < t.n and t.b[i] != ord(")"):
                        i += 1
                    url = t.b[start:i].decode("utf-8", "replace")
                link = _link_entity(entity_offset, length, url)
                if link is not None:
                    entities.append(link)
            elif is_pre:
                entities.append(Entity("pre", entity_offset, length, language=language or None))
            else:
                entities.append(Entity("code", entity_offset, length))
        if is_pre:
            i += 2
    return out.decode("utf-8", "replace"), _sort_entities(entities)


# --- entities given explicitly, trimming, the combined entry point --------------


class ApiError(Exception):
    """A Bot API error response."""

    def __init__(
        self, error_code: int, description: str, *, retry_after: int | None = None, migrate_to_chat_id: int | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


# ReactionTypeEmoji: the only emoji a bot may react with.
REACTION_EMOJI = frozenset(
    "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 "
    "👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡".split()
)


def bad_request(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: {message}")


def entities_from_json(value: Any, text: str) -> list[Entity]:
    """Validates a JSON list of MessageEntity against the text (offsets in UTF-16 units)."""
    if not isinstance(value, list):
        raise bad_request("can't parse entities JSON object")
    text_len = utf16_len(text)
    result: list[Entity] = []
    for raw in value:
        if not isinstance(raw, dict):
            raise bad_request("can't parse MessageEntity: expected an Object")
        kind = raw.get("type")
        if not isinstance(kind, str):
            raise bad_request('can\'t parse MessageEntity: Can\'t find field "type"')
        if kind not in KNOWN_ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        for key in ("offset", "length"):
            if not isinstance(raw.get(key), int) or isinstance(raw.get(key), bool):
                raise bad_request(f'can\'t parse MessageEntity: Field "{key}" must be a valid Number')
        offset, length = raw["offset"], raw["length"]
        if offset < 0:
            raise bad_request(f"receive an entity with incorrect offset {offset}")
        if length < 0:
            raise bad_request(f"receive an entity with incorrect length {length}")
        if offset + length > text_len:
            # stand-in strictness: Telegram silently truncates such an entity; the bot computed it wrong
            raise bad_request(
                f"entity beyond the end of text (offset {offset} + length {length} > {text_len} UTF-16 units)"
            )
        url = raw.get("url")
        if kind == "text_link":
            if not isinstance(url, str):
                raise bad_request('can\'t parse MessageEntity: Can\'t find field "url"')
            if checked_link(url) is None:
                raise bad_request(f"entity URL '{url}' is invalid: Wrong HTTP URL")
        if kind == "custom_emoji" and not isinstance(raw.get("custom_emoji_id"), str):
            raise bad_request('can\'t parse MessageEntity: Can\'t find field "custom_emoji_id"')
        user_id: int | None = None
        if kind == "text_mention":
            user = raw.get("user")
            if not (isinstance(user, dict) and isinstance(user.get("id"), int)):
                raise bad_request('can\'t parse MessageEntity: Can\'t find field "user"')
            user_id = user["id"]
        result.append(
            Entity(
                kind,
                offset,
                length,
                url=url if kind == "text_link" else None,
                language=raw.get("language") if kind == "pre" else None,
                custom_emoji_id=raw.get("custom_emoji_id") if kind == "custom_emoji" else None,
                user_id=user_id,
            )
        )
    return _sort_entities(result)


def _trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """tdlib fix_formatted_text trimming: trailing ' '/'\\n' always, leading ones only before the first entity."""
    entities = [e for e in entities if e.length > 0]
    stripped = text.rstrip(" \n")
    end = utf16_len(stripped)
    fixed: list[Entity] = []
    for e in entities:
        if e.offset >= end:
            continue
        if e.offset + e.length > end:
            e = replace(e, length=end - e.offset)
        fixed.append(e)
    first_entity = min((e.offset for e in fixed), default=end)
    lead = 0
    while lead < first_entity and lead < len(stripped) and stripped[lead] in " \n":
        lead += 1  # ' ' and '\n' are one UTF-16 unit each
    if lead:
        stripped = stripped[lead:]
        fixed = [replace(e, offset=e.offset - lead) for e in fixed]
    return stripped, _sort_entities(fixed)


def parse_formatted_text(
    text: str,
    parse_mode: str | None,
    entities_json: Any = None,
    *,
    strict_ampersand: bool = True,
) -> tuple[str, list[Entity]]:
    """The Bot API's get_formatted_text: parse_mode wins over `entities`; then trim.

    Raises ApiError with Telegram's description. The caller decides what "empty" means.
    """
    mode = (parse_mode or "").lower()
    if text and mode and mode != "none":
        try:
            if mode == "html":
                plain, ents = parse_html(text, strict_ampersand=strict_ampersand)
            elif mode == "markdownv2":
                plain, ents = parse_markdown_v2(text)
            elif mode == "markdown":
                plain, ents = parse_markdown_legacy(text)
            else:
                raise bad_request("unsupported parse_mode")
        except ParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    elif entities_json is not None:
        plain, ents = text, entities_from_json(entities_json, text)
    else:
        plain, ents = text, []
    return _trim(plain, ents)


# ---------------------------------------------------------------------------
# Records exposed to tests
# ---------------------------------------------------------------------------


@dataclass
class Call:
    """One HTTP request the bot made, and how the stand-in answered it."""

    method: str  # canonical camelCase name when known, else as requested
    params: dict[str, Any]  # decoded: ints as int, JSON fields parsed, uploads summarised
    ok: bool
    error_code: int | None
    description: str | None
    at: float  # time.monotonic() when the request arrived
    result: Any = None
    flood_violation: bool = False  # arrived inside a retry_after window this stand-in imposed

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    def __str__(self) -> str:
        brief = {k: v for k, v in self.params.items() if k in ("chat_id", "message_id", "message_thread_id")}
        if "text" in self.params:
            text = str(self.params["text"])
            brief["text"] = text if len(text) <= 60 else text[:57] + "..."
        status = "ok" if self.ok else f"{self.error_code} {self.description}"
        return f"{self.method}({brief}) -> {status}"


@dataclass
class BotMessage:
    """A message the bot sent, in its current state (edits and deletion applied)."""

    message_id: int
    chat_id: int
    thread_id: int | None
    text: str | None  # plain text as the user sees it (entities stripped); None for media
    raw_text: str | None  # exactly what the bot sent
    parse_mode: str | None
    entities: list[Entity]
    reply_markup: dict[str, Any] | None
    date: int
    edits: int = 0
    deleted: bool = False
    document: tuple[str, bytes] | None = None
    photo: bytes | None = None
    caption: str | None = None  # plain caption text
    caption_entities: list[Entity] = field(default_factory=list)
    reply_to_message_id: int | None = None
    history: list[str] = field(default_factory=list)  # text (or caption) after each send/edit
    edit_date: int | None = None
    file_id: str | None = None

    @property
    def visible_text(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text if self.text is not None else (self.caption or "")

    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]


@dataclass
class UserMessage:
    """A message a simulated user sent (kept so replies, reactions and threads can be checked)."""

    message_id: int
    chat_id: int
    thread_id: int | None
    user_id: int
    json: dict[str, Any]
    deleted: bool = False
    reactions: list[Any] = field(default_factory=list)


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def as_json(self, **fields: Any) -> dict[str, Any]:
        """The file as the Bot API shows it; a Document, PhotoSize or File adds its own fields."""
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.content), **fields}

    def document_json(self) -> dict[str, Any]:
        return self.as_json(file_name=self.file_name, mime_type=self.mime_type)


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    is_forum: bool = False
    username: str | None = None
    first_name: str | None = None
    next_message_id: int = 1
    threads: set[int] = field(default_factory=set)  # known topics (General is implicit)
    topic_names: dict[int, str] = field(default_factory=dict)
    blocked: bool = False
    member: bool = True  # the bot is in the chat (leaveChat ends that)
    migrated_to: int | None = None  # a group upgraded to this supergroup
    reactions_allowed: bool = True  # False: the group's admins turned reactions off

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.first_name or "Tester"
            if self.username:
                out["username"] = self.username
        else:
            out["title"] = self.title or f"Chat {self.id}"
            if self.username:
                out["username"] = self.username
        if self.is_forum:
            out["is_forum"] = True
        return out

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class _Fault:
    method: str | None  # lower-case method name; None = any sending method
    remaining: int
    error_code: int
    retry_after: int
    description: str | None


class _Abandoned(Exception):
    """The client went away before its request was answered."""


@dataclass
class _Upload:
    filename: str
    content: bytes
    content_type: str | None


# ---------------------------------------------------------------------------
# Request parameters
# ---------------------------------------------------------------------------

# Parameters Telegram reads as JSON (aiogram sends them as JSON strings in form data).
_JSON_PARAMS = frozenset(
    {"reply_markup", "entities", "caption_entities", "link_preview_options", "reply_parameters",
     "allowed_updates", "commands", "scope", "reaction", "media", "message_ids"}
)
_INT_PARAMS = frozenset(
    {"message_id", "message_thread_id", "offset", "limit", "timeout", "reply_to_message_id",
     "cache_time", "from_chat_id", "user_id"}
)
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "link_preview_options": "can't parse link preview options JSON object",
    "reply_parameters": "can't parse reply parameters JSON object",
    "allowed_updates": "can't parse allowed updates JSON object",
    "commands": "can't parse commands JSON object",
    "scope": "can't parse BotCommandScope JSON object",
    "reaction": "can't parse reaction types JSON object",
    "message_ids": "can't parse message identifiers JSON object",
}


class _Params:
    """Typed access to request parameters, wherever they came from (query, form, multipart, JSON)."""

    def __init__(self, raw: dict[str, Any], uploads: dict[str, _Upload]) -> None:
        self.raw = raw
        self.uploads = uploads

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key] not in (None, "")

    def get_str(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None or isinstance(value, _Upload):
            return None
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def get_int(self, key: str) -> int | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {key} specified") from None

    def get_bool(self, key: str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1") if value is not None else False

    def get_json(self, key: str) -> Any:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(_JSON_ERRORS.get(key, f"can't parse {key} JSON object")) from None

    def get_file(self, key: str) -> _Upload | str | None:
        """An uploaded file (direct field or attach://name), or a file_id/URL string."""
        value = self.raw.get(key)
        if isinstance(value, _Upload):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f'can\'t find attached file "{value[len("attach://"):]}"')
            return upload
        return value if isinstance(value, str) and value else None

    def decoded(self) -> dict[str, Any]:
        """A test-friendly copy: ints as int, JSON fields parsed, uploads summarised."""
        out: dict[str, Any] = {}
        for key, value in self.raw.items():
            if isinstance(value, _Upload):
                out[key] = {"filename": value.filename, "size": len(value.content)}
                continue
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in self.uploads:
                upload = self.uploads[value[9:]]
                out[key] = {"filename": upload.filename, "size": len(upload.content)}
                continue
            if key in _JSON_PARAMS and isinstance(value, str):
                try:
                    out[key] = json.loads(value)
                except ValueError:
                    out[key] = value
            elif key in _INT_PARAMS or key == "chat_id":
                try:
                    out[key] = int(value) if not isinstance(value, bool) else value
                except (TypeError, ValueError):
                    out[key] = value
            else:
                out[key] = value
        return out


# ---------------------------------------------------------------------------
# The stand-in
# ---------------------------------------------------------------------------

# Methods that create, change or remove messages: the default target of fail_next()/flood()
# and the methods whose retry_after windows are enforced.
SENDING_METHODS = frozenset(
    {"sendmessage", "editmessagetext", "editmessagecaption", "editmessagereplymarkup", "senddocument",
     "sendphoto", "sendmediagroup", "deletemessage", "deletemessages", "copymessage", "forwardmessage"}
)
CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
     "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
)
# Update types delivered when allowed_updates is empty or was never set.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ENTITIES = 100
MAX_CALLBACK_DATA = 64
MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
# Telegram's retry_after is whole seconds; allow for scheduling jitter before calling a retry premature.
_FLOOD_TOLERANCE = 0.05
_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG/GIF/JPEG header, if recognisable."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(data[i + 5 : i + 7], "big")
            i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


def _check_entity_count(entities: list[Entity]) -> None:
    # stand-in strictness: Telegram silently ignores entities past the 100th; the bot lost formatting
    if len(entities) > MAX_ENTITIES:
        raise bad_request(f"too many entities ({len(entities)} > {MAX_ENTITIES}): Telegram ignores the rest")


_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])")
_MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_])")


def _detected_entities(text: str) -> list[dict[str, Any]]:
    """What Telegram marks in a user's plain text: a leading bot_command and @username mentions."""
    found: list[dict[str, Any]] = []
    if m := _COMMAND_RE.match(text):
        found.append({"offset": 0, "length": utf16_len(m.group(0)), "type": "bot_command"})
    for m in _MENTION_RE.finditer(text):  # "/cmd@bot" is part of the command: "@" follows a letter there
        found.append({"offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0)), "type": "mention"})
    return found


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _is_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


class TelegramStandin(Served):
    """The Bot API over HTTP on 127.0.0.1, plus helpers to play users and inspect what the bot did."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "claude_test_bot",
        *,
        bot_first_name: str = "Claude Test Bot",
        strict_ampersand: bool = True,
        private_topics: bool = False,
    ) -> None:
        self.token = token
        # Bot API 9.3 "Threaded Mode": topics in private chats (getMe has_topics_enabled).
        self.private_topics = private_topics
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_ampersand = strict_ampersand
        self.base_url = ""
        self.calls: list[Call] = []
        self.internal_errors: list[str] = []  # stand-in bugs; tests may assert this stays empty

        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._bot_messages: dict[tuple[int, int], BotMessage] = {}
        self._user_messages: dict[tuple[int, int], UserMessage] = {}
        self._files: dict[str, _StoredFile] = {}
        self._album_seq = 0
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = 0
        self._callback_queries: dict[str, tuple[int, int]] = {}  # id -> (chat_id, message_id)
        self._callback_answers: dict[str, dict[str, Any]] = {}
        self._callback_seq = 0
        self._commands: dict[str, list[dict[str, Any]]] = {}

        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1000
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._polls_started = 0
        self._webhook_url = ""
        self._webhook_secret = ""
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_in_flight: set[int] = set()
        # Where the reverse proxy in front of the bot forwards the webhook URL to ("http://127.0.0.1:PORT"):
        # while a webhook is set and this is known, updates are POSTed there, as Telegram would.
        self.webhook_proxy: str | None = None
        self.webhook_posts: list[tuple[int, int | None]] = []  # (update_id, HTTP status or None) of every delivery

        self._faults: list[_Fault] = []
        self._download_failures: list[int] = []  # statuses the next file downloads get
        self._flood_every = 0
        self._flood_retry_after = 1
        self._flood_counter = 0
        self._flood_windows: dict[Any, float] = {}  # chat key -> monotonic end of retry window
        self._down: str | None = None

        self._changed = asyncio.Event()
        self._stopping = False
        self._methods: dict[str, tuple[str, Callable[[_Params], Any] | None]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("getUpdates", None),  # handled asynchronously (long polling)
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("sendMessage", self._send_message),
            ("editMessageText", self._edit_message_text),
            ("editMessageCaption", self._edit_message_caption),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
            ("deleteMessages", self._delete_messages),
            ("sendChatAction", self._send_chat_action),
            ("answerCallbackQuery", self._answer_callback_query),
            ("sendDocument", self._send_document),
            ("sendPhoto", self._send_photo),
            ("getFile", self._get_file),
            ("getChat", self._get_chat),
            ("setMessageReaction", self._set_message_reaction),
            ("createForumTopic", self._create_forum_topic),
            ("leaveChat", self._leave_chat),
            ("close", lambda p: True),
            ("logOut", lambda p: True),
        ):
            self._methods[name.lower()] = (name, handler)

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # A short shutdown_timeout: hung "timeout"-mode requests must not stall stop().
        self.base_url = await self._serve(app, "127.0.0.1", 0, shutdown_timeout=0.5)

    async def refuse_connections(self, refuse: bool = True) -> None:
        """The server is not there at all (connection refused), as when the network is not up yet;
        refuse=False listens again on the same address."""
        assert self._runner is not None
        if refuse and self._site is not None:
            await self._site.stop()
            self._site = None
        elif not refuse and self._site is None:
            host, port = self.base_url.removeprefix("http://").rsplit(":", 1)
            self._site = web.TCPSite(self._runner, host, int(port), reuse_address=True)
            await self._site.start()
        self._notify()

    async def stop(self) -> None:
        self._stopping = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        await super().stop()

    # --- change notification ---------------------------------------------------

    def _notify(self) -> None:
        # Swap-and-set rather than asyncio.Condition so synchronous helpers (user_message, ...)
        # can signal without awaiting.
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=max(timeout, 0))

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 30.0) -> T:
        """The first truthy value of predicate(), re-evaluated whenever the stand-in's state changes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout:g}s\n{self.describe()}")
            await self._wait_change(remaining)

    async def wait_for_text(
        self,
        chat_id: int,
        contains: str,
        *,
        thread_id: int | EllipsisType | None = ...,
        timeout: float = 30.0,
    ) -> BotMessage:
        """A visible bot message in the chat (and topic) whose current text or caption contains `contains`."""

        def find() -> BotMessage | None:
            for message in self.bot_messages(chat_id, thread_id):
                if contains in message.visible_text:
                    return message
            return None

        try:
            return await self.wait_for(find, timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"no bot message containing {contains!r} in chat {chat_id}: {exc}") from None

    def describe(self, last: int = 15) -> str:
        """A summary for failure messages: recent calls (long polls omitted) and bot messages."""
        calls = [c for c in self.calls if c.method != "getUpdates"][-last:]
        lines = ["last calls:"] + ([f"  {c}" for c in calls] or ["  (none)"])
        lines.append("bot messages:")
        for message in list(self._bot_messages.values())[-last:]:
            state = " [deleted]" if message.deleted else ""
            lines.append(
                f"  chat {message.chat_id} thread {message.thread_id} #{message.message_id}{state}: "
                f"{message.visible_text[:80]!r}"
            )
        if self.internal_errors:
            lines.append(f"stand-in internal errors: {self.internal_errors}")
        return "\n".join(lines)

    # --- inspection ------------------------------------------------------------

    def bot_messages(
        self,
        chat_id: int,
        thread_id: int | EllipsisType | None = ...,
        *,
        include_deleted: bool = False,
    ) -> list[BotMessage]:
        """Messages the bot sent to the chat in send order, current state; thread_id=None is General."""
        chat = self._chats.get(chat_id)
        if thread_id == 1 and chat is not None and chat.is_forum:
            thread_id = None
        return [
            m
            for (c, _), m in sorted(self._bot_messages.items(), key=lambda kv: kv[0][1])
            if c == chat_id
            and (thread_id is ... or m.thread_id == thread_id)
            and (include_deleted or not m.deleted)
        ]

    def user_messages(self, chat_id: int) -> list[UserMessage]:
        return [m for (c, _), m in sorted(self._user_messages.items()) if c == chat_id]

    def errors(self, method: str | None = None) -> list[Call]:
        """Calls answered with an API error (optionally of one method, case-insensitive).

        Requests that got no answer at all (outage modes "timeout"/"close", long polls the
        client abandoned) are in `calls` with error_code None, not here.
        """
        wanted = method.lower() if method else None
        return [
            c for c in self.calls
            if c.error_code is not None and (wanted is None or c.method.lower() == wanted)
        ]

    def calls_to(self, method: str) -> list[Call]:
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def flood_violations(self, chat_id: int | None = None) -> list[Call]:
        """Calls that came back before a retry_after window imposed by this stand-in had passed."""
        return [c for c in self.calls if c.flood_violation and (chat_id is None or c.chat_id == chat_id)]

    def callback_answers(self) -> dict[str, dict[str, Any]]:
        """Callback query id -> params of its (first, successful) answerCallbackQuery."""
        return dict(self._callback_answers)

    @property
    def polls_started(self) -> int:
        """getUpdates requests received so far, counted when they arrive (a long poll is recorded in
        `calls` only when it returns), so a test can wait for a bot that is polling right now."""
        return self._polls_started

    @property
    def pending_updates(self) -> int:
        """Updates pushed but not yet confirmed by the bot (offset)."""
        return len(self._updates)

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    # --- faults ----------------------------------------------------------------

    def fail_next(
        self,
        method: str | None = None,
        *,
        count: int = 1,
        error_code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """The next `count` calls of `method` (None = any sending method) fail with error_code.

        A 429 also opens a retry_after window for that chat: a sending call arriving inside it
        gets another 429 and is recorded as a flood violation.
        """
        self._faults.append(_Fault(method.lower() if method else None, count, error_code, retry_after, description))

    def fail_downloads(self, count: int = 1, status: int = 502) -> None:
        """The next `count` downloads from the file URL (`/file/bot<token>/<path>`) get `status`."""
        self._download_failures.extend([status] * count)

    def flood(self, *, every: int, retry_after: int = 1) -> None:
        """Every Nth sending call gets 429 retry_after (every=0 turns it off)."""
        self._flood_every = every
        self._flood_retry_after = retry_after
        self._flood_counter = 0

    def set_down(self, down: bool, *, mode: str = "500") -> None:
        """Simulate an outage: "500" answers 500, "timeout" hangs until the client gives up,
        "close" drops the connection without an answer."""
        if mode not in ("500", "timeout", "close"):
            raise ValueError(f"unknown outage mode {mode!r}")
        self._down = mode if down else None
        self._notify()

    def add_bot_to_group(
        self, chat_id: int, user_id: int, *, chat_type: str = "group", title: str | None = None, first_name: str = "Tester"
    ) -> None:
        """A user adds the bot to a group, as Telegram reports it: a `my_chat_member` update (left → member)
        and, in the group, the service message `new_chat_members` (plus the legacy single-member fields)."""
        chat = self._ensure_chat(chat_id, chat_type, False, title, None, None)
        chat.member = True
        user = self._user(user_id, first_name)
        bot = self._bot_user()
        self._push_bot_membership(chat, user, "left", "member")
        content: dict[str, Any] = {"new_chat_members": [bot]}
        if chat_type == "group":
            content.update(new_chat_member=bot, new_chat_participant=bot)
        self._push_user_message(chat_id, user_id, content, chat_type=chat_type, chat_title=title, first_name=first_name)

    def is_member(self, chat_id: int) -> bool:
        return self._chat(chat_id).member

    def disallow_reactions(self, chat_id: int) -> None:
        """The chat's admins turn reactions off: setMessageReaction there gets REACTION_INVALID."""
        self._chat(chat_id).reactions_allowed = False

    def block_bot(self, chat_id: int, blocked: bool = True) -> None:
        """The user of a private chat blocks (or unblocks) the bot: sends get 403."""
        self._chat(chat_id).blocked = blocked

    # --- simulated users -------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str = "private",
        is_forum: bool = False,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> None:
        """Make a chat known without a message (the bot may then send to it)."""
        self._ensure_chat(chat_id, chat_type, is_forum, title, first_name, username)

    def add_forum_topic(self, chat_id: int, thread_id: int, *, name: str | None = None) -> None:
        """Create a topic in a forum chat, or a private chat when private_topics is on
        (the creation service message gets id thread_id)."""
        chat = self._chat(chat_id)
        if not self._has_topics(chat):
            raise ValueError(f"chat {chat_id} has no topics")
        self._register_thread(chat, thread_id)
        if name is not None:
            chat.topic_names[thread_id] = name

    def upgrade_group(
        self, chat_id: int, new_chat_id: int, user_id: int, *, is_forum: bool = False, service_messages: bool = True
    ) -> None:
        """Turn a group into a supergroup with a new id, as Telegram does when it gets topics, goes
        public or grows: a ``migrate_to_chat_id`` service message in the old chat, a
        ``migrate_from_chat_id`` one in the new chat, and every later call on the old id fails
        with the new id in ``parameters.migrate_to_chat_id``. ``service_messages=False`` plays a
        bot that never got those updates (they expire after 24 hours)."""
        old = self._chat(chat_id)
        if old.type != "group":
            raise ValueError(f"chat {chat_id} is a {old.type}; only a group is upgraded")
        new = self._ensure_chat(new_chat_id, "supergroup", is_forum, old.title, None, None)
        user = self._users.get(user_id) or self._user(user_id)
        now = int(time.time())
        old_id, new_id = old.take_message_id(), new.take_message_id()
        if service_messages:
            self._push_update(
                {"message": {"message_id": old_id, "from": user, "chat": old.to_json(), "date": now,
                             "migrate_to_chat_id": new_chat_id}}
            )
        old.migrated_to = new_chat_id
        if service_messages:
            self._push_update(
                {"message": {"message_id": new_id, "from": user, "chat": new.to_json(), "date": now,
                             "migrate_from_chat_id": chat_id}}
            )

    def delete_forum_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a topic: sending into it fails with "message thread not found"."""
        self._chat(chat_id).threads.discard(thread_id)

    def user_message(
        self, chat_id: int, user_id: int, text: str, *, entities: list[dict[str, Any]] | None = None, **chat_kwargs: Any
    ) -> dict[str, Any]:
        """Push a text message from a user (with the entities Telegram detects); returns the update."""
        content: dict[str, Any] = {"text": text}
        detected = entities if entities is not None else _detected_entities(text)
        if detected:
            content["entities"] = detected
        return self._push_user_message(chat_id, user_id, content, **chat_kwargs)

    def user_edit(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edits a text message: an ``edited_message`` update with the message's new state."""
        stored = self._user_messages.get((chat_id, message_id))
        if stored is None or stored.deleted or "text" not in stored.json:
            raise ValueError(f"no text message {message_id} of a user in chat {chat_id}")
        message = {k: v for k, v in stored.json.items() if k != "entities"}
        message["text"] = text
        if detected := _detected_entities(text):
            message["entities"] = detected
        message["edit_date"] = max(int(time.time()), message["date"] + 1)
        stored.json = message
        return self._push_update({"edited_message": message})

    def user_document(
        self, chat_id: int, user_id: int, filename: str, content: bytes, *, caption: str | None = None,
        mime_type: str = "application/octet-stream", media_group_id: str | None = None, **chat_kwargs: Any,
    ) -> dict[str, Any]:
        """Push a document from a user; getFile + the file URL serve `content`."""
        stored = self._store_file("documents", content, filename, mime_type)
        return self._push_media(chat_id, user_id, {"document": stored.document_json()}, caption, media_group_id, chat_kwargs)

    def user_photo(
        self, chat_id: int, user_id: int, content: bytes, *, caption: str | None = None,
        media_group_id: str | None = None, **chat_kwargs: Any,
    ) -> dict[str, Any]:
        """Push a photo from a user (two sizes, both serving `content`; the last is the largest)."""
        width, height = _image_size(content) or (1280, 960)
        sizes = []
        for scale in (4, 1):
            stored = self._store_file("photos", content, None, "image/jpeg", ext=".jpg")
            sizes.append(stored.as_json(width=max(1, width // scale), height=max(1, height // scale)))
        return self._push_media(chat_id, user_id, {"photo": sizes}, caption, media_group_id, chat_kwargs)

    def _push_media(
        self, chat_id: int, user_id: int, message: dict[str, Any], caption: str | None, media_group_id: str | None,
        chat_kwargs: dict[str, Any],
    ) -> dict[str, Any]:
        if caption is not None:
            message["caption"] = caption
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return self._push_user_message(chat_id, user_id, message, **chat_kwargs)

    def user_voice(
        self, chat_id: int, user_id: int, content: bytes, *, duration: int = 3, audio_file: str | None = None, **chat_kwargs: Any
    ) -> dict[str, Any]:
        """Push a voice note (or, with ``audio_file``, an audio file of that name) from a user."""
        if audio_file is None:
            stored = self._store_file("voice", content, None, "audio/ogg", ext=".oga")
            media: dict[str, Any] = {"voice": {"duration": duration, "mime_type": "audio/ogg"}}
        else:
            stored = self._store_file("music", content, audio_file, "audio/mpeg")
            media = {"audio": {"duration": duration, "mime_type": "audio/mpeg", "file_name": audio_file}}
        (body,) = media.values()
        body.update(file_id=stored.file_id, file_unique_id=stored.file_unique_id, file_size=len(content))
        return self._push_user_message(chat_id, user_id, media, **chat_kwargs)

    def user_album(
        self, chat_id: int, user_id: int, photos: list[bytes], *, caption: str | None = None, **chat_kwargs: Any
    ) -> list[dict[str, Any]]:
        """An album as Telegram delivers it: one message per photo sharing a media_group_id, the caption on the first."""
        self._album_seq += 1
        group = f"1{self._album_seq:017d}"
        return [
            self.user_photo(chat_id, user_id, photo, caption=caption if i == 0 else None, media_group_id=group, **chat_kwargs)
            for i, photo in enumerate(photos)
        ]

    def press_button(
        self, chat_id: int, user_id: int, message_id: int, data: str, *, thread_id: int | None = None,
        first_name: str = "Tester", username: str | None = None, force: bool = False,
    ) -> str:
        """Push a callback_query for a button of a bot message; returns the query id.

        Refuses (ValueError) to press a button the user could not see: deleted message or no
        such callback_data in its current keyboard, unless force=True.
        """
        message = self._bot_messages.get((chat_id, message_id))
        if message is None:
            raise ValueError(f"no bot message {message_id} in chat {chat_id}")
        if not force:
            if message.deleted:
                raise ValueError(f"bot message {message_id} in chat {chat_id} was deleted")
            datas = [b.get("callback_data") for b in message.buttons()]
            if data not in datas:
                raise ValueError(f"message {message_id} has no button with callback_data {data!r}; it has {datas}")
            if thread_id is not None and message.thread_id != thread_id and not (
                thread_id == 1 and message.thread_id is None
            ):
                raise ValueError(f"message {message_id} is in thread {message.thread_id}, not {thread_id}")
        user = self._user(user_id, first_name, username)
        self._callback_seq += 1
        query_id = str(4_000_000_000_000_000_000 + self._callback_seq)
        self._callback_queries[query_id] = (chat_id, message_id)
        self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": self._message_json(message),
                    "chat_instance": str(abs(chat_id) * 7 + 3),
                    "data": data,
                }
            }
        )
        return query_id

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Push an arbitrary update (update_id is assigned)."""
        return self._push_update(dict(update))

    # --- internals: users, chats, updates ----------------------------------------

    def _user(self, user_id: int, first_name: str = "Tester", username: str | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
        if username:
            user["username"] = username
        self._users[user_id] = user
        return user

    def _ensure_chat(
        self,
        chat_id: int,
        chat_type: str,
        is_forum: bool,
        title: str | None,
        first_name: str | None,
        username: str | None,
    ) -> _Chat:
        if is_forum and chat_type == "private":
            chat_type = "supergroup"  # forums are supergroups
        if chat_type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {chat_type!r}")
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Chat(chat_id, chat_type)
            self._chats[chat_id] = chat
        chat.type = chat_type
        chat.is_forum = chat.is_forum or is_forum
        if title is not None:
            chat.title = title
        if chat_type == "private":
            chat.first_name = first_name or chat.first_name
            chat.username = username or chat.username
        return chat

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}; push a user message or call add_chat() first")
        return chat

    def _register_thread(self, chat: _Chat, thread_id: int) -> None:
        if thread_id in chat.threads:
            return
        chat.threads.add(thread_id)
        # In Telegram a topic's id is the id of its creation message, so later ids are larger.
        chat.next_message_id = max(chat.next_message_id, thread_id + 1)

    def _has_topics(self, chat: _Chat) -> bool:
        return chat.is_forum or (chat.type == "private" and self.private_topics)

    def _topic_root_json(self, chat: _Chat, thread_id: int, user: dict[str, Any]) -> dict[str, Any]:
        return {
            "message_id": thread_id,
            "from": user,
            "chat": chat.to_json(),
            "date": int(time.time()) - 60,
            "message_thread_id": thread_id,
            "forum_topic_created": {
                "name": chat.topic_names.get(thread_id, f"Topic {thread_id}"),
                "icon_color": 7322096,
            },
            "is_topic_message": True,
        }

    def _push_user_message(
        self,
        chat_id: int,
        user_id: int,
        content: dict[str, Any],
        *,
        chat_type: str = "private",
        thread_id: int | None = None,
        is_forum: bool = False,
        chat_title: str | None = None,
        first_name: str = "Tester",
        username: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        chat = self._ensure_chat(chat_id, chat_type, is_forum, chat_title, first_name, username)
        if not chat.member:
            raise ValueError(f"the bot left chat {chat_id}: Telegram would not deliver this message")
        if chat.migrated_to is not None:
            raise ValueError(f"chat {chat_id} was upgraded to {chat.migrated_to}; users write there now")
        user = self._user(user_id, first_name, username)
        if chat.is_forum and thread_id == 1:
            thread_id = None  # the General topic: Telegram sends no thread id
        if thread_id is not None and chat.type == "private" and not self.private_topics:
            raise ValueError("a private chat has topics only with private_topics=True (Threaded Mode)")
        if thread_id is not None:
            self._register_thread(chat, thread_id)
        message_id = chat.take_message_id()
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": user,
            "chat": chat.to_json(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if self._has_topics(chat):
                message["is_topic_message"] = True
        if reply_to_message_id is not None:
            replied = self._message_json_by_id(chat_id, reply_to_message_id)
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat_id} to reply to")
            message["reply_to_message"] = replied
        elif thread_id is not None and self._has_topics(chat):
            # Telegram marks every topic message as a reply to the topic's creation message.
            message["reply_to_message"] = self._topic_root_json(chat, thread_id, user)
        message.update(content)
        self._user_messages[(chat_id, message_id)] = UserMessage(message_id, chat_id, thread_id, user_id, message)
        return self._push_update({"message": message})

    def _push_update(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self._updates.append(update)
        self._notify()
        return update

    def _message_json_by_id(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        bot_message = self._bot_messages.get((chat_id, message_id))
        if bot_message is not None and not bot_message.deleted:
            return self._message_json(bot_message, nested=False)
        user_message = self._user_messages.get((chat_id, message_id))
        if user_message is not None and not user_message.deleted:
            return {k: v for k, v in user_message.json.items() if k != "reply_to_message"}
        return None

    # --- internals: files ----------------------------------------------------------

    def _store_file(
        self, folder: str, content: bytes, filename: str | None, mime_type: str | None, ext: str | None = None
    ) -> _StoredFile:
        self._file_seq += 1
        n = self._file_seq
        if ext is None:
            ext = ""
            if filename and "." in filename:
                ext = "." + filename.rsplit(".", 1)[1]
        stored = _StoredFile(
            file_id=f"BQACAgIAAxkBAAI{n:06d}standin{folder[:3]}",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{folder}/file_{n}{ext}",
            content=content,
            file_name=filename,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    # --- HTTP ----------------------------------------------------------------------

    @staticmethod
    def _error_body(error: ApiError) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": error.error_code, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        if error.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": error.migrate_to_chat_id}
        return body

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._notify()

    async def _outage(self, request: web.Request, method: str, params: dict[str, Any]) -> web.StreamResponse:
        """Answer a request while set_down() is in effect."""
        mode = self._down
        at = time.monotonic()
        if mode == "500":
            self._record(Call(method, params, False, 500, "Internal Server Error", at))
            return web.json_response(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"}, status=500
            )
        if mode == "close":
            self._record(Call(method, params, False, None, "connection dropped (stand-in outage)", at))
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # aiohttp treats it as a lost connection and writes nothing
        self._record(Call(method, params, False, None, "no answer (stand-in outage, timeout mode)", at))
        while not self._stopping and not _client_gone(request):
            await self._wait_change(0.1)
        raise asyncio.CancelledError

    async def _read_params(self, request: web.Request) -> _Params:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON encoded request") from None
                if not isinstance(body, dict):
                    raise bad_request("can't parse JSON encoded request")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        upload = _Upload(value.filename or key, value.file.read(), value.content_type)
                        uploads[key] = upload
                        raw[key] = upload
                    else:
                        raw[key] = value
        return _Params(raw, uploads)

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if self._down is not None:
            return await self._outage(request, "file", {"path": path})
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        stored = self._files_by_path.get(path)
        if self._download_failures:
            status = self._download_failures.pop(0)
            return web.json_response({"ok": False, "error_code": status, "description": "Injected failure"}, status=status)
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.content, content_type=stored.mime_type or "application/octet-stream")

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        requested = request.match_info["method"]
        name, handler = self._methods.get(requested.lower(), (requested, None))
        at = time.monotonic()
        params: _Params | None = None
        try:
            if self._down is not None:
                try:
                    decoded = (await self._read_params(request)).decoded()
                except ApiError:
                    decoded = {}
                return await self._outage(request, name, decoded)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if requested.lower() not in self._methods:
                raise ApiError(404, "Not Found")
            params = await self._read_params(request)
            flood_violation = self._check_faults(name.lower(), params)
            if flood_violation is not None:
                self._record(self._error_call(name, params, flood_violation, at, violation=True))
                return web.json_response(self._error_body(flood_violation), status=429)
            if name == "getUpdates":
                result = await self._get_updates(params, lambda: _client_gone(request))
            else:
                assert handler is not None
                result = handler(params)
        except ApiError as error:
            self._record(self._error_call(name, params, error, at))
            return web.json_response(self._error_body(error), status=error.error_code)
        except _Abandoned:
            self._record(Call(name, params.decoded() if params else {}, False, None, "client disconnected", at))
            raise asyncio.CancelledError from None  # nobody is listening for an answer
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the stand-in: make it loud, not a silent hang
            self.internal_errors.append(f"{name}: {type(exc).__name__}: {exc}")
            bug = ApiError(500, f"Internal Server Error: stand-in bug: {type(exc).__name__}: {exc}")
            self._record(self._error_call(name, params, bug, at))
            return web.json_response(self._error_body(bug), status=500)
        self._record(Call(name, params.decoded(), True, None, None, at, result=result))
        return web.json_response({"ok": True, "result": result}, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    @staticmethod
    def _error_call(name: str, params: _Params | None, error: ApiError, at: float, violation: bool = False) -> Call:
        decoded = params.decoded() if params is not None else {}
        return Call(name, decoded, False, error.error_code, error.description, at, flood_violation=violation)

    # --- faults ----------------------------------------------------------------------

    def _flood_key(self, params: _Params) -> Any:
        value = params.raw.get("chat_id")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return value

    def _too_many(self, key: Any, retry_after: int) -> ApiError:
        self._flood_windows[key] = time.monotonic() + retry_after
        return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def _check_faults(self, method: str, params: _Params) -> ApiError | None:
        """Returns the error for a flood-window violation; raises injected faults; else None."""
        sending = method in SENDING_METHODS
        key = self._flood_key(params)
        if sending:
            window_end = self._flood_windows.get(key)
            now = time.monotonic()
            if window_end is not None and now < window_end - _FLOOD_TOLERANCE:
                left = max(1, math.ceil(window_end - now))
                return ApiError(429, f"Too Many Requests: retry after {left}", retry_after=left)
        for fault in self._faults:
            if fault.remaining > 0 and (fault.method == method or (fault.method is None and sending)):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                if fault.error_code == 429:
                    raise self._too_many(key, fault.retry_after)
                raise ApiError(fault.error_code, fault.description or self._default_description(fault.error_code))
        if sending and self._flood_every > 0:
            self._flood_counter += 1
            if self._flood_counter % self._flood_every == 0:
                raise self._too_many(key, self._flood_retry_after)
        return None

    @staticmethod
    def _default_description(code: int) -> str:
        return {
            400: "Bad Request: injected failure",
            403: "Forbidden: bot was blocked by the user",
            409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(code, f"Error {code}")

    # --- methods: bot, webhook, commands ---------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    def _get_me(self, p: _Params) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
            "has_topics_enabled": self.private_topics,
            "allows_users_to_create_topics": self.private_topics,
        }

    def _set_webhook(self, p: _Params) -> bool:
        url = p.get_str("url") or ""
        secret = p.get_str("secret_token") or ""
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if (parts.port or 443) not in (80, 88, 443, 8443):
                raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.get_json("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed]
        self._webhook_url = url
        self._webhook_secret = secret
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        self._poll_generation += 1  # a pending long poll is terminated
        if url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())
        self._notify()
        return True

    def _delete_webhook(self, p: _Params) -> bool:
        self._webhook_url = ""
        self._webhook_secret = ""
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return True

    def webhook_info(self) -> dict[str, Any]:
        return {"url": self._webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def _get_webhook_info(self, p: _Params) -> dict[str, Any]:
        return self.webhook_info()

    async def _deliver_webhook(self) -> None:
        """POST pending updates to the webhook (via `webhook_proxy`), several at once as Telegram does;
        an update leaves the queue only when the bot answered it with 200, else it is retried."""
        async with aiohttp.ClientSession() as client:
            posts: set[asyncio.Task[None]] = set()
            while self._webhook_url and not self._stopping:
                waiting = [
                    u for u in self._updates if self._is_allowed(u) and u["update_id"] not in self._webhook_in_flight
                ]
                for update in waiting[: max(0, 40 - len(self._webhook_in_flight))] if self.webhook_proxy else []:
                    self._webhook_in_flight.add(update["update_id"])  # at most max_connections (40) at once
                    post = asyncio.get_running_loop().create_task(self._post_update(client, update))
                    posts.add(post)
                    post.add_done_callback(posts.discard)
                await self._wait_change(0.2)
            for post in list(posts):
                post.cancel()
            await asyncio.gather(*posts, return_exceptions=True)

    async def _post_update(self, client: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        url = (self.webhook_proxy or "").rstrip("/") + (urlsplit(self._webhook_url).path or "/")
        headers = {"X-Telegram-Bot-Api-Secret-Token": self._webhook_secret} if self._webhook_secret else {}
        status: int | None = None
        try:
            async with client.post(url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=60)) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        self.webhook_posts.append((update["update_id"], status))
        if status == 200:
            self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
        else:
            await asyncio.sleep(0.5)  # Telegram retries a failed delivery later
        self._webhook_in_flight.discard(update["update_id"])
        self._notify()

    @staticmethod
    def _commands_key(scope: Any, language_code: str | None) -> str:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + (language_code or "")

    def _set_my_commands(self, p: _Params) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: expected an Object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name.lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("command description must be non-empty")
        self._commands[self._commands_key(p.get_json("scope"), p.get_str("language_code"))] = [
            {"command": c["command"].lstrip("/"), "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, p: _Params) -> list[dict[str, Any]]:
        return self._commands.get(self._commands_key(p.get_json("scope"), p.get_str("language_code")), [])

    def _delete_my_commands(self, p: _Params) -> bool:
        self._commands.pop(self._commands_key(p.get_json("scope"), p.get_str("language_code")), None)
        return True

    # --- methods: updates --------------------------------------------------------------

    async def _get_updates(self, p: _Params, client_gone: Callable[[], bool]) -> list[dict[str, Any]]:
        if self._webhook_url:
            raise ApiError(
                409, "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        offset = p.get_int("offset")
        limit = p.get_int("limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = max(p.get_int("timeout") or 0, 0)
        allowed = p.get_json("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed updates JSON object")
            self._allowed_updates = [str(a) for a in allowed]

        if offset is not None:
            if offset < 0:
                self._updates = self._updates[offset:]  # keep only the last -offset updates
            else:
                # confirmed updates are forgotten for good
                self._updates = [u for u in self._updates if u["update_id"] >= offset]

        # Only one getUpdates may be pending: a newer one terminates the older with 409.
        self._polls_started += 1
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # A killed or stopped bot leaves its poll behind; it must not later show up as a 409.
            if client_gone():
                raise _Abandoned
            if generation != self._poll_generation:
                raise ApiError(409, self._default_description(409))
            eligible = [u for u in self._updates if self._is_allowed(u)][:limit]
            remaining = deadline - loop.time()
            if eligible or remaining <= 0 or self._stopping:
                return eligible
            await self._wait_change(min(remaining, 0.2))  # also re-check for a vanished client

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if not self._allowed_updates:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    # --- methods: helpers shared by senders --------------------------------------------

    def _target_chat(self, p: _Params) -> _Chat:
        value = p.raw.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        chat: _Chat | None = None
        text = str(value).strip()
        if text.startswith("@"):
            chat = next((c for c in self._chats.values() if c.username and "@" + c.username == text), None)
        else:
            try:
                chat = self._chats.get(int(text))
            except ValueError:
                chat = None
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        if chat.migrated_to is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=chat.migrated_to)
        return chat

    def _target_thread(self, chat: _Chat, p: _Params) -> int | None:
        """The topic a new message goes to (None = General / no thread)."""
        thread_id = p.get_int("message_thread_id")
        if thread_id is None:
            return None
        if chat.is_forum and thread_id == 1:
            return None  # General
        if chat.type == "private" and not self.private_topics:
            return None  # without Threaded Mode a private chat has no threads; the id is ignored
        if thread_id not in chat.threads:
            raise bad_request("message thread not found")
        return thread_id

    def _reply_target(self, chat: _Chat, p: _Params) -> tuple[int | None, int | None]:
        """(replied message id, its thread) from reply_parameters or legacy reply_to_message_id."""
        reply_parameters = p.get_json("reply_parameters")
        allow_without = p.get_bool("allow_sending_without_reply")
        message_id: int | None = None
        if reply_parameters is not None:
            if not isinstance(reply_parameters, dict) or not isinstance(reply_parameters.get("message_id"), int):
                raise bad_request("can't parse reply parameters JSON object")
            if reply_parameters.get("chat_id") not in (None, chat.id):
                raise bad_request("replies to messages in other chats are not supported by the stand-in")
            message_id = reply_parameters["message_id"]
            allow_without = bool(reply_parameters.get("allow_sending_without_reply", allow_without))
        elif p.has("reply_to_message_id"):
            message_id = p.get_int("reply_to_message_id")
        if message_id is None:
            return None, None
        bot_message = self._bot_messages.get((chat.id, message_id))
        user_message = self._user_messages.get((chat.id, message_id))
        if bot_message is not None and not bot_message.deleted:
            return message_id, bot_message.thread_id
        if user_message is not None and not user_message.deleted:
            return message_id, user_message.thread_id
        if allow_without:
            return None, None
        raise bad_request("message to be replied not found")

    def _reply_markup(self, p: _Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        markup = p.get_json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
        elif inline_only:
            raise bad_request("inline keyboard expected")
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request('field "keyboard" must be an Array of Arrays')
        elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        if sum(len(r) for r in rows) > 100:
            raise bad_request("reply markup is too long")
        prefix = "can't parse inline keyboard button: "
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise bad_request(prefix + "InlineKeyboardButton must be an Object")
                if "text" not in button:
                    raise bad_request(prefix + 'Can\'t find field "text"')
                if not isinstance(button["text"], str):
                    raise bad_request(prefix + 'Field "text" must be of type String')
                if not button["text"].strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
                actions = [a for a in _BUTTON_ACTIONS if button.get(a) not in (None, "", False)]
                if not actions:
                    raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
                if len(actions) > 1:
                    # stand-in strictness: Telegram silently uses the first one
                    raise bad_request(
                        prefix + f"exactly one of the optional fields must be used, got {', '.join(actions)}"
                    )
                data = button.get("callback_data")
                if data is not None:
                    if not isinstance(data, str):
                        raise bad_request(prefix + 'Field "callback_data" must be of type String')
                    if len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
                        raise bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and (not isinstance(url, str) or checked_link(url) is None):
                    raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")

    def _formatted(self, p: _Params, text_key: str, entities_key: str) -> tuple[str, list[Entity]]:
        return parse_formatted_text(
            p.get_str(text_key) or "",
            p.get_str("parse_mode"),
            p.get_json(entities_key),
            strict_ampersand=self.strict_ampersand,
        )

    def _text(self, p: _Params) -> tuple[str, list[Entity]]:
        if not p.has("text"):
            raise bad_request("message text is empty")
        text, entities = self._formatted(p, "text", "entities")
        if not text:
            raise bad_request("message text is empty")
        # tdlib: utf8_length(text) > message_text_length_max, i.e. code points after entity parsing
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        _check_entity_count(entities)
        return text, entities

    def _caption(self, p: _Params) -> tuple[str | None, list[Entity]]:
        if not p.has("caption"):
            return None, []
        caption, entities = self._formatted(p, "caption", "caption_entities")
        if len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        _check_entity_count(entities)
        return caption or None, entities

    def _message_json(self, m: BotMessage, *, nested: bool = True) -> dict[str, Any]:
        chat = self._chats[m.chat_id]
        out: dict[str, Any] = {
            "message_id": m.message_id,
            "from": self._bot_user(),
            "chat": chat.to_json(),
            "date": m.date,
        }
        if m.thread_id is not None:
            out["message_thread_id"] = m.thread_id
            if self._has_topics(chat):
                out["is_topic_message"] = True
        if nested and m.reply_to_message_id is not None:
            replied = self._message_json_by_id(m.chat_id, m.reply_to_message_id)
            if replied is not None:
                out["reply_to_message"] = replied
        if m.edit_date is not None:
            out["edit_date"] = m.edit_date
        if m.text is not None:
            out["text"] = m.text
            if m.entities:
                out["entities"] = [e.to_json() for e in m.entities]
        if m.document is not None:
            out["document"] = self._files[m.file_id or ""].document_json()
        if m.photo is not None:
            stored = self._files[m.file_id or ""]
            width, height = _image_size(m.photo) or (1280, 960)
            out["photo"] = [stored.as_json(file_size=len(m.photo), width=width, height=height)]
        if m.caption is not None:
            out["caption"] = m.caption
            if m.caption_entities:
                out["caption_entities"] = [e.to_json() for e in m.caption_entities]
        if m.reply_markup is not None and "inline_keyboard" in m.reply_markup:
            out["reply_markup"] = m.reply_markup  # only inline keyboards are part of a message
        return out

    def _new_bot_message(self, chat: _Chat, p: _Params, **fields: Any) -> BotMessage:
        """Common part of every send: thread, reply, markup checks; stores and returns the message."""
        thread_id = self._target_thread(chat, p)
        reply_to, reply_thread = self._reply_target(chat, p)
        if thread_id is None and not p.has("message_thread_id") and reply_thread is not None:
            thread_id = reply_thread  # a reply lands in the replied message's topic
        markup = self._reply_markup(p)
        message = BotMessage(
            message_id=chat.take_message_id(),
            chat_id=chat.id,
            thread_id=thread_id,
            reply_markup=markup,
            date=int(time.time()),
            reply_to_message_id=reply_to,
            **fields,
        )
        message.history.append(message.visible_text)
        self._bot_messages[(chat.id, message.message_id)] = message
        return message

    # --- methods: sending ------------------------------------------------------------

    def _send_message(self, p: _Params) -> dict[str, Any]:
        chat = self._target_chat(p)
        text, entities = self._text(p)
        p.get_json("link_preview_options")  # validated for JSON syntax only
        message = self._new_bot_message(
            chat, p, text=text, raw_text=p.get_str("text"), parse_mode=p.get_str("parse_mode"), entities=entities
        )
        return self._message_json(message)

    def _upload_or_file(self, p: _Params, key: str, folder: str, kind: str) -> _StoredFile:
        value = p.get_file(key)
        if value is None:
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, _Upload):
            if not value.content:
                raise bad_request("file must be non-empty")
            if len(value.content) > MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            mime = value.content_type if value.content_type not in (None, "application/octet-stream") else None
            mime = mime or mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
            if folder == "photos":
                if not _is_image(value.content):
                    raise bad_request("IMAGE_PROCESS_FAILED")
                return self._store_file(folder, value.content, None, "image/jpeg", ext=".jpg")
            return self._store_file(folder, value.content, value.filename, mime)
        stored = self._files.get(value)
        if stored is not None:
            return stored
        if re.match(r"(?i)^https?://", value):
            name = value.rstrip("/").rsplit("/", 1)[-1] or "file"
            return self._store_file(folder, b"", name, mimetypes.guess_type(name)[0])
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _send_document(self, p: _Params) -> dict[str, Any]:
        return self._send_file(p, "document", "documents")

    def _send_photo(self, p: _Params) -> dict[str, Any]:
        return self._send_file(p, "photo", "photos")

    def _send_file(self, p: _Params, field_name: str, folder: str) -> dict[str, Any]:
        chat = self._target_chat(p)
        caption, caption_entities = self._caption(p)
        stored = self._upload_or_file(p, field_name, folder, field_name)
        sent: dict[str, Any] = (
            {"document": (stored.file_name or "file", stored.content)} if field_name == "document" else {"photo": stored.content}
        )
        message = self._new_bot_message(
            chat, p, text=None, raw_text=p.get_str("caption"), parse_mode=p.get_str("parse_mode"), entities=[],
            caption=caption, caption_entities=caption_entities, file_id=stored.file_id, **sent,
        )
        return self._message_json(message)

    def _send_chat_action(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        if (p.get_str("action") or "") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._target_thread(chat, p)
        return True

    def _leave_chat(self, p: _Params) -> bool:
        chat = self._target_chat(p)  # 403 when it is not a member any more
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        chat.member = False
        # Telegram reports the bot's own departure too, with the bot as the actor.
        self._push_bot_membership(chat, self._bot_user(), "member", "left")
        return True

    def _push_bot_membership(self, chat: _Chat, actor: dict[str, Any], old: str, new: str) -> None:
        """A `my_chat_member` update: the bot's own status in `chat` changed from `old` to `new`, by `actor`."""
        bot = self._bot_user()
        self._push_update({"my_chat_member": {
            "chat": chat.to_json(),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": {"user": bot, "status": old},
            "new_chat_member": {"user": bot, "status": new},
        }})

    def _create_forum_topic(self, p: _Params) -> dict[str, Any]:
        chat = self._target_chat(p)
        if not self._has_topics(chat):
            raise bad_request("the chat is not a forum")
        name = p.get_str("name") or ""
        if not 1 <= len(name) <= 128:
            raise bad_request("invalid forum topic name specified")
        thread_id = chat.take_message_id()
        self._register_thread(chat, thread_id)
        chat.topic_names[thread_id] = name
        return {"message_thread_id": thread_id, "name": name, "icon_color": p.get_int("icon_color") or 7322096}

    # --- methods: editing and deleting -------------------------------------------------

    def _editable(self, p: _Params) -> BotMessage:
        if p.has("inline_message_id"):
            raise bad_request("inline messages are not supported by the stand-in")
        if not p.has("message_id"):
            raise bad_request("message identifier is not specified")
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        assert message_id is not None
        message = self._bot_messages.get((chat.id, message_id))
        if message is None or message.deleted:
            user_message = self._user_messages.get((chat.id, message_id))
            if user_message is not None and not user_message.deleted:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return message

    @staticmethod
    def _not_modified() -> ApiError:
        return bad_request(
            "message is not modified: specified new message content and reply markup are exactly the same "
            "as a current content and reply markup of the message"
        )

    def _apply_edit(self, message: BotMessage) -> dict[str, Any]:
        message.edits += 1
        message.edit_date = int(time.time())
        message.history.append(message.visible_text)
        return self._message_json(message)

    def _edit_message_text(self, p: _Params) -> dict[str, Any]:
        return self._edit_words(p, "text", "entities")

    def _edit_message_caption(self, p: _Params) -> dict[str, Any]:
        return self._edit_words(p, "caption", "caption_entities")

    def _edit_words(self, p: _Params, field: str, entities_field: str) -> dict[str, Any]:
        """editMessageText (a text message's words) or editMessageCaption (a media message's)."""
        message = self._editable(p)
        if (message.text is None) == (field == "text"):
            raise bad_request(f"there is no {field} in the message to edit")
        words, entities = self._text(p) if field == "text" else self._caption(p)
        markup = self._reply_markup(p, inline_only=True)  # omitted = the keyboard is removed
        if field == "text":
            p.get_json("link_preview_options")
        if (words, entities, markup) == (getattr(message, field), getattr(message, entities_field), message.reply_markup):
            raise self._not_modified()
        setattr(message, field, words)
        setattr(message, entities_field, entities)
        message.reply_markup = markup
        message.raw_text, message.parse_mode = p.get_str(field), p.get_str("parse_mode")
        return self._apply_edit(message)

    def _edit_message_reply_markup(self, p: _Params) -> dict[str, Any]:
        message = self._editable(p)
        markup = self._reply_markup(p, inline_only=True)
        if markup == message.reply_markup:
            raise self._not_modified()
        message.reply_markup = markup
        message.edits += 1
        message.edit_date = int(time.time())
        return self._message_json(message)

    def _delete_one(self, chat: _Chat, message_id: int) -> bool:
        bot_message = self._bot_messages.get((chat.id, message_id))
        if bot_message is not None and not bot_message.deleted:
            bot_message.deleted = True
            return True
        user_message = self._user_messages.get((chat.id, message_id))
        if user_message is not None and not user_message.deleted:
            user_message.deleted = True
            return True
        return False

    def _delete_message(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        if not self._delete_one(chat, message_id):
            raise bad_request("message to delete not found")
        return True

    def _delete_messages(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        ids = p.get_json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100 or not all(isinstance(i, int) for i in ids):
            raise bad_request("can't parse message identifiers JSON object")
        for message_id in ids:
            self._delete_one(chat, message_id)  # Telegram skips missing ones silently
        return True

    # --- methods: callbacks, files, chats, reactions ---------------------------------------

    def _answer_callback_query(self, p: _Params) -> bool:
        query_id = p.get_str("callback_query_id") or ""
        if query_id not in self._callback_queries or query_id in self._callback_answers:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(p.get_str("text") or "") > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._callback_answers[query_id] = p.decoded()
        return True

    def _get_file(self, p: _Params) -> dict[str, Any]:
        file_id = p.get_str("file_id") or ""
        if not file_id:
            raise bad_request("invalid file_id")
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if len(stored.content) > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return stored.as_json(file_path=stored.file_path)

    def _get_chat(self, p: _Params) -> dict[str, Any]:
        chat = self._target_chat(p)
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _set_message_reaction(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        reaction = p.get_json("reaction")
        reactions = reaction if isinstance(reaction, list) else []
        for item in reactions:
            # A bot may set only the standard emoji, and only where the chat allows reactions.
            if not chat.reactions_allowed or not isinstance(item, dict) or item.get("type") != "emoji" or item.get("emoji") not in REACTION_EMOJI:
                raise bad_request("REACTION_INVALID")
        target = self._user_messages.get((chat.id, message_id or 0))
        if target is None:
            raise bad_request("message to react not found")
        target.reactions = reactions
        return True
