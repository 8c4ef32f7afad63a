"""parse_html: a port of tdlib's HTML parse mode (td/telegram/MessageEntity.cpp)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tests.standins.telegram.entities import (
    Entity,
    ParseError,
    _Bytes,
    _decode_out,
    _is_space,
    _link_entity,
    _sort_entities,
    _utf16_units,
)

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
