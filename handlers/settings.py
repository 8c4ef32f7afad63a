"""/mode and /model, each with its buttons: a chat's permission mode and model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.app import Core
from bot.features.settings import ChatSettings
from bot.sessions.keys import ChatKey
from bot.telegram.control_keyboards import ModeCb, ModelCb, mode_keyboard, model_keyboard
from handlers.context import button_message, key_of

router = Router(name="settings")


@dataclass(frozen=True)
class _Setting:
    command: str
    button: type[ModeCb] | type[ModelCb]
    # Shows or sets the value; returns the reply and the value now in effect.
    change: Callable[[ChatSettings], Callable[[ChatKey, str], Awaitable[tuple[str, Any]]]]
    keyboard: Callable[[ChatSettings, Any], InlineKeyboardMarkup]  # the choices, the value in effect marked
    notice: Callable[[Any], str]  # what a button press pops up


SETTINGS = [
    _Setting(
        "mode", ModeCb, lambda settings: settings.mode,
        lambda settings, current: mode_keyboard(current, settings.offered_modes()),  # not what Claude Code would refuse
        lambda current: f"Mode: {current}",
    ),
    _Setting(
        "model", ModelCb, lambda settings: settings.model,
        lambda settings, current: model_keyboard(current),
        lambda current: f"Model: {current or 'default'}",
    ),
]


def _register(setting: _Setting) -> None:
    @router.message(Command(setting.command))
    async def show(message: Message, command: CommandObject, core: Core) -> None:
        key = key_of(message)
        text, current = await setting.change(core.chat_settings)(key, command.args or "")
        markup = setting.keyboard(core.chat_settings, current)
        await core.outboxes.send_text(key, text, parse_mode="HTML", reply_to=message.message_id, reply_markup=markup)

    @router.callback_query(setting.button.filter())
    async def press(query: CallbackQuery, callback_data: ModeCb | ModelCb, core: Core) -> None:
        if (message := await button_message(query)) is None:
            return
        key = key_of(message)
        text, current = await setting.change(core.chat_settings)(key, callback_data.value)
        await query.answer(setting.notice(current))
        core.outboxes.edit_text(key, message.message_id, text, parse_mode="HTML", reply_markup=setting.keyboard(core.chat_settings, current))


for _setting in SETTINGS:
    _register(_setting)
