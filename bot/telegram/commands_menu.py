"""The Telegram command menu of one chat (BotCommandScopeChat): the bot's commands plus Claude Code's."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat

log = logging.getLogger(__name__)


async def set_chat_menu(bot: Bot, chat_id: int, commands: list[tuple[str, str]]) -> None:
    """Best effort: the menu is a convenience, typing the command works without it."""
    try:
        await bot.set_my_commands(
            [BotCommand(command=name, description=text) for name, text in commands], scope=BotCommandScopeChat(chat_id=chat_id)
        )
    except TelegramAPIError as exc:
        log.warning("could not set the command menu of chat %s: %s", chat_id, exc)
