"""/mode and /model, with their buttons: a chat's permission mode and model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.app import Core
from bot.sessions.keys import ChatKey
from bot.telegram.control_keyboards import ModeCb, ModelCb, mode_keyboard, model_keyboard
from handlers.context import button_message, key_of

router = Router(name="settings")

Change = Callable[[ChatKey, str], Awaitable[tuple[str, Any]]]  # (reply, the value now in effect)
Keyboard = Callable[[Any], InlineKeyboardMarkup]


async def _show(message: Message, core: Core, change: Change, argument: str, keyboard: Keyboard) -> None:
    text, current = await change(key_of(message), argument)
    await core.outboxes.send_text(key_of(message), text, parse_mode="HTML", reply_to=message.message_id, reply_markup=keyboard(current))


async def _press(query: CallbackQuery, core: Core, change: Change, value: str, keyboard: Keyboard, notice: Callable[[Any], str]) -> None:
    if (message := await button_message(query)) is None:
        return
    text, current = await change(key_of(message), value)
    await query.answer(notice(current))
    core.outboxes.edit_text(key_of(message), message.message_id, text, parse_mode="HTML", reply_markup=keyboard(current))


@router.message(Command("mode"))
async def mode(message: Message, command: CommandObject, core: Core) -> None:
    await _show(message, core, core.chat_settings.mode, command.args or "", mode_keyboard)


@router.callback_query(ModeCb.filter())
async def mode_button(query: CallbackQuery, callback_data: ModeCb, core: Core) -> None:
    await _press(query, core, core.chat_settings.mode, callback_data.value, mode_keyboard, lambda current: f"Mode: {current}")


@router.message(Command("model"))
async def model(message: Message, command: CommandObject, core: Core) -> None:
    await _show(message, core, core.chat_settings.model, command.args or "", model_keyboard)


@router.callback_query(ModelCb.filter())
async def model_button(query: CallbackQuery, callback_data: ModelCb, core: Core) -> None:
    await _press(query, core, core.chat_settings.model, callback_data.value, model_keyboard, lambda current: f"Model: {current or 'default'}")
