"""Edited messages: one still waiting changes what Claude gets; otherwise one line and a button to send it anew."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message

from bot.app import Core
from bot.features.edits import ALREADY_SENT, RESEND_BUTTON
from bot.telegram.keyboards import ResendCb, resend_keyboard
from handlers.context import BUTTON_EXPIRED, chat_title, key_of, message_of, prompt_of, turn_from, user_id_of

router = Router(name="edits")


@router.edited_message(F.text & ~F.text.startswith("/"))
async def edited(message: Message, core: Core, bot: Bot) -> None:
    key = key_of(message)
    prompt = await prompt_of(message, bot)
    if prompt and await core.edits.apply(await core.manager.for_chat(key), key, user_id_of(message), message.message_id, prompt):
        return  # Claude gets the edited text (a queue notice says so)
    await core.outboxes.send_text(key, ALREADY_SENT, reply_to=message.message_id, reply_markup=resend_keyboard(RESEND_BUTTON))


@router.callback_query(ResendCb.filter())
async def resend(query: CallbackQuery, core: Core, bot: Bot) -> None:
    notice = message_of(query)
    edited = notice.reply_to_message if notice is not None else None
    if notice is None or edited is None or not edited.text:
        await query.answer(BUTTON_EXPIRED)
        return
    key = key_of(notice)
    session = await core.manager.for_chat(key, chat_title(notice.chat))
    await core.usage.check(session)  # a spent budget is said on the button (handlers/context.py say_refusal)
    await query.answer("Sent.")
    core.outboxes.edit_text(key, notice.message_id, ALREADY_SENT + " The edited text was sent as a new message.")
    turn = turn_from(edited, await prompt_of(edited, bot))
    turn.user_id = query.from_user.id
    await core.scheduler.submit(session, turn)
