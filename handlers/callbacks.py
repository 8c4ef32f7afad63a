"""Inline buttons. Every press is answered; a stale or foreign button only says it expired."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.app import Core
from bot.features.conversation import ChatCommands
from bot.telegram.keyboards import CleanupCb, QueueCb, ResumeCb, StopCb
from handlers.context import BUTTON_EXPIRED, key_of, message_of

router = Router(name="callbacks")

@router.callback_query(StopCb.filter())
async def stop(query: CallbackQuery, callback_data: StopCb, commands: ChatCommands) -> None:
    message = message_of(query)
    if message is None:
        await query.answer(BUTTON_EXPIRED)
        return
    await query.answer(await commands.stop_session(key_of(message), callback_data.session))


@router.callback_query(QueueCb.filter())
async def queued(query: CallbackQuery, callback_data: QueueCb, core: Core) -> None:
    message = message_of(query)
    found = core.scheduler.find_turn(callback_data.turn)
    # Turn ids restart with the bot: a button is only good on the very message it was sent with.
    if (
        message is None
        or found is None
        or found[1].key != key_of(message)
        or found[1].queued_message_id != message.message_id
    ):
        await query.answer(BUTTON_EXPIRED)
        return
    session, turn = found
    if callback_data.action == "cancel":
        done = await core.scheduler.cancel(session, turn)
        await query.answer("Cancelled." if done else "Too late: it is already running.")
    elif callback_data.action == "now":
        done = await core.scheduler.run_now(session, turn)
        await query.answer("Running it next." if done else "It is already running.")
    else:
        await query.answer(BUTTON_EXPIRED)


@router.callback_query(ResumeCb.filter())
async def resume(query: CallbackQuery, callback_data: ResumeCb, core: Core, commands: ChatCommands) -> None:
    message = message_of(query)
    if message is None:
        await query.answer(BUTTON_EXPIRED)
        return
    key = key_of(message)
    text = await commands.resume(key, callback_data.session_id)
    await query.answer()
    await core.outboxes.send_text(key, text, parse_mode="HTML")


@router.callback_query(CleanupCb.filter())
async def cleanup(query: CallbackQuery, core: Core, commands: ChatCommands) -> None:
    message = message_of(query)
    if message is None:
        await query.answer(BUTTON_EXPIRED)
        return
    text = await commands.cleanup(key_of(message), query.from_user.id)
    await query.answer(text)
    await core.outboxes.send_text(key_of(message), text)


@router.callback_query()
async def unknown(query: CallbackQuery) -> None:
    await query.answer(BUTTON_EXPIRED)
