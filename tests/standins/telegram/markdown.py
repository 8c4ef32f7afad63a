"""parse_markdown_v2 and parse_markdown_legacy: ports of tdlib's two Markdown parse modes."""

from __future__ import annotations

from dataclasses import dataclass

from tests.standins.telegram.entities import (
    _BS,
    _CR,
    _LF,
    _TD_TO_BOTAPI,
    Entity,
    ParseError,
    _Bytes,
    _custom_emoji_id,
    _link_entity,
    _pre_start,
    _sort_entities,
    _utf16_units,
)


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
