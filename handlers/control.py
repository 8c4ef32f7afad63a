"""Answering Claude's requests (buttons and text replies), /mode and /model."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.app import Core
from bot.claude.approvals import EXPIRED
from bot.telegram.control_keyboards import ApprovalCb, ModeCb, ModelCb, mode_keyboard, model_keyboard
from handlers.context import BUTTON_EXPIRED, key_of, message_of

router = Router(name="control")

@router.callback_query(ApprovalCb.filter())
async def approval_button(query: CallbackQuery, callback_data: ApprovalCb, core: Core) -> None:
    message = message_of(query)
    if message is None:
        await query.answer(EXPIRED)
        return
    notice = core.approvals.press(
        token=callback_data.token,
        action=callback_data.action,
        choice=callback_data.choice,
        user_id=query.from_user.id,
        key=key_of(message),
        message_id=message.message_id,
    )
    await query.answer(notice)


async def _replies_to_request(message: Message, core: Core) -> bool:
    replied = message.reply_to_message
    return replied is not None and core.approvals.is_request_message(key_of(message), replied.message_id)


@router.message(F.text, _replies_to_request)
async def approval_reply(message: Message, core: Core) -> None:
    assert message.reply_to_message is not None
    refusal = core.approvals.reply(
        key=key_of(message),
        message_id=message.reply_to_message.message_id,
        user_id=message.from_user.id if message.from_user else None,
        text=message.text or "",
    )
    if refusal:
        await core.outboxes.send_text(key_of(message), refusal, reply_to=message.message_id)


async def _setting_reply(message: Message, core: Core, text: str, keyboard: InlineKeyboardMarkup) -> None:
    await core.outboxes.send_text(key_of(message), text, parse_mode="HTML", reply_to=message.message_id, reply_markup=keyboard)


@router.message(Command("mode"))
async def mode(message: Message, command: CommandObject, core: Core) -> None:
    text, current = await core.chat_settings.mode(key_of(message), command.args or "")
    await _setting_reply(message, core, text, mode_keyboard(current, core.chat_settings.offered_modes()))


@router.callback_query(ModeCb.filter())
async def mode_button(query: CallbackQuery, callback_data: ModeCb, core: Core) -> None:
    if (message := message_of(query)) is None:
        await query.answer(BUTTON_EXPIRED)
        return
    text, current = await core.chat_settings.mode(key_of(message), callback_data.value)
    await query.answer(f"Mode: {current}")
    core.outboxes.edit_text(key_of(message), message.message_id, text, parse_mode="HTML", reply_markup=mode_keyboard(current, core.chat_settings.offered_modes()))


@router.message(Command("model"))
async def model(message: Message, command: CommandObject, core: Core) -> None:
    text, current = await core.chat_settings.model(key_of(message), command.args or "")
    await _setting_reply(message, core, text, model_keyboard(current))


@router.callback_query(ModelCb.filter())
async def model_button(query: CallbackQuery, callback_data: ModelCb, core: Core) -> None:
    if (message := message_of(query)) is None:
        await query.answer(BUTTON_EXPIRED)
        return
    text, current = await core.chat_settings.model(key_of(message), callback_data.value)
    await query.answer(f"Model: {current or 'default'}")
    core.outboxes.edit_text(key_of(message), message.message_id, text, parse_mode="HTML", reply_markup=model_keyboard(current))
