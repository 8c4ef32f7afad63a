"""A strict, in-process stand-in for the Telegram Bot API (the face of tests/standins/telegram/).

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

from tests.standins import telegram
from tests.standins.telegram import *  # noqa: F403 - this module is the package's face

__all__ = telegram.__all__
