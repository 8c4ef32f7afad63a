"""The Telegram Bot API stand-in, one module per section (tests/standins/telegram_api.py is its face).

entities, html, markdown, formatted: text entities and the parse modes (ports of tdlib);
limits, errors, params, records: Telegram's limits, its errors, a method's parameters, what is kept;
standin: TelegramStandin (state, lifecycle, waits, inspection), made of one mixin per family:
updates (playing users), callbacks (buttons pressed, web_app URLs opened), chats, messages, edits,
files, delivery (polling, webhook), bot_profile (getMe, commands, the menu button), faults, http.
"""

from tests.standins.telegram.entities import Entity, ParseError, utf16_len
from tests.standins.telegram.formatted import parse_formatted_text
from tests.standins.telegram.records import BotMessage, Call, UserMessage
from tests.standins.telegram.standin import TelegramStandin

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
