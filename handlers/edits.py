"""Edited messages go to the intake: one still waiting changes what Claude gets; otherwise one line and a button to send it anew."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message

from bot.app import Core
from bot.features.edits import ALREADY_SENT, RESEND_BUTTON, RESENT
from bot.telegram.keyboards import ResendCb, resend_keyboard
from handlers.context import BUTTON_EXPIRED, incoming_of, key_of, message_of

router = Router(name="edits")


@router.edited_message(F.text & ~F.text.startswith("/"))
async def edited(message: Message, core: Core, bot: Bot) -> None:
    if await core.intake.edit(await incoming_of(message, bot)):
        return  # Claude gets the edited text (a queue notice says so)
    await core.outboxes.send_text(key_of(message), ALREADY_SENT, reply_to=message.message_id, reply_markup=resend_keyboard(RESEND_BUTTON))


@router.callback_query(ResendCb.filter())
async def resend(query: CallbackQuery, core: Core, bot: Bot) -> None:
    notice = message_of(query)
    edited = notice.reply_to_message if notice is not None else None
    if notice is None or edited is None or not edited.text:
        await query.answer(BUTTON_EXPIRED)
        return
    # A spent budget is said on the button (handlers/context.py say_refusal).
    await core.intake.resend(await incoming_of(edited, bot), by=query.from_user.id)
    await query.answer("Sent.")
    core.outboxes.edit_text(key_of(notice), notice.message_id, RESENT)
