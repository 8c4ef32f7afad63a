"""Answering Claude's requests: their buttons, and text replies to a request message."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.app import Core
from bot.claude.approvals import EXPIRED
from bot.telegram.control_keyboards import ApprovalCb
from handlers.context import button_message, key_of, user_id_of

router = Router(name="approvals")


@router.callback_query(ApprovalCb.filter())
async def approval_button(query: CallbackQuery, callback_data: ApprovalCb, core: Core) -> None:
    if (message := await button_message(query, EXPIRED)) is None:
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
    # A closed request is said in reply (handlers/context.py say_refusal).
    core.approvals.reply(
        key=key_of(message), message_id=message.reply_to_message.message_id, user_id=user_id_of(message), text=message.text or ""
    )
