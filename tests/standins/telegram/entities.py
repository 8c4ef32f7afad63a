"""Text entities: the Entity record, UTF-16 lengths, tdlib's entity order and the link checks the parsers share."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


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


def https_link_problem(url: str) -> str | None:
    """Why tdlib's LinkManager::check_link(url, http_only=true, https_only=true) refuses a link, or None."""
    checked = checked_link(url)
    if checked is None:
        return "Wrong HTTP URL"
    if not checked.lower().startswith("https://"):
        return "Only HTTPS links are allowed"
    return None


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
