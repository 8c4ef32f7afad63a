"""Entities given explicitly, trimming, and parse_formatted_text: what a text or caption becomes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.standins.telegram.entities import (
    KNOWN_ENTITY_TYPES,
    Entity,
    ParseError,
    _sort_entities,
    checked_link,
    utf16_len,
)
from tests.standins.telegram.errors import bad_request
from tests.standins.telegram.html import parse_html
from tests.standins.telegram.markdown import parse_markdown_legacy, parse_markdown_v2


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
    _check_duplicates(result)
    return _sort_entities(result)


def _check_duplicates(entities: list[Entity]) -> None:
    """Stand-in strictness: the same formatting twice over the same text (``bold`` inside ``bold``) is a
    bot's mistake (a split that clipped an entity into a part twice); refused rather than merged."""
    ordered = sorted(entities, key=lambda e: (e.type, e.url or "", e.language or "", e.offset))
    for a, b in zip(ordered, ordered[1:]):
        if (a.type, a.url, a.language, a.custom_emoji_id) == (b.type, b.url, b.language, b.custom_emoji_id) and b.offset < a.offset + a.length:
            raise bad_request(f"can't parse entities: two {a.type} entities overlap at offset {b.offset}")


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
