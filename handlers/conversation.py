"""The conversation: /start /help (and the chat's command menu) /status /new /stop /cd /sessions /resume, with their buttons and the queue's."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.app import Core
from bot.features.texts import STOPPING, STOPPING_REACTION
from bot.telegram.commands_menu import set_chat_menu
from bot.telegram.keyboards import CleanupCb, QueueCb, ResumeCb, StopCb, cleanup_keyboard, resume_keyboard
from handlers.context import BUTTON_EXPIRED, button_message, chat_title, key_of, message_of, user_id_of

router = Router(name="conversation")


async def _answer(core: Core, message: Message, text: str, **kwargs: object) -> None:
    await core.outboxes.send_text(key_of(message), text, parse_mode="HTML", reply_to=message.message_id, **kwargs)


@router.message(CommandStart())
@router.message(Command("help"))
async def start(message: Message, command: CommandObject, core: Core, bot: Bot) -> None:
    describe = core.commands.help if command.command == "help" else core.commands.start  # /help: every command with its arguments
    await _answer(core, message, await describe(key_of(message), chat_title(message.chat)))
    await set_chat_menu(bot, message.chat.id, await core.commands.menu(key_of(message)))


@router.message(Command("status"))
async def status(message: Message, core: Core) -> None:
    key = key_of(message)
    markup = core.review_buttons.status_keyboard(key) if core.review_buttons else None  # the chat's changes, what waits
    await _answer(core, message, await core.commands.status(key), reply_markup=markup)


@router.message(Command("new"))
async def new(message: Message, core: Core) -> None:
    await _answer(core, message, await core.commands.new_conversation(key_of(message)))


@router.message(Command("stop"))
async def stop(message: Message, core: Core) -> None:
    # One message for a stop: the turn's own ends "⏹ Stopped."; the command only gets a 👌 (or,
    # where reactions are off, a line saying it is being stopped).
    if (text := await core.commands.stop(key_of(message))) is None:
        if await core.outboxes.react(key_of(message), message.message_id, STOPPING_REACTION):
            return
        text = STOPPING
    await _answer(core, message, text)


@router.callback_query(StopCb.filter())
async def stop_button(query: CallbackQuery, callback_data: StopCb, core: Core) -> None:
    if (message := await button_message(query)) is not None:
        await query.answer(await core.commands.stop_session(key_of(message), callback_data.session))


@router.callback_query(QueueCb.filter())
async def queued_button(query: CallbackQuery, callback_data: QueueCb, core: Core) -> None:
    if (message := await button_message(query)) is not None:
        await query.answer(await core.commands.queue_button(key_of(message), message.message_id, callback_data.turn, callback_data.action))


@router.message(Command("cd"))
async def cd(message: Message, command: CommandObject, core: Core) -> None:
    await _answer(core, message, await core.commands.change_dir(key_of(message), command.args or ""))


@router.message(Command("sessions"))
async def sessions(message: Message, command: CommandObject, core: Core) -> None:
    text, cleanable = await core.commands.sessions_command(key_of(message), user_id_of(message), command.args or "")
    await _answer(core, message, text, reply_markup=cleanup_keyboard() if cleanable else None)


@router.callback_query(CleanupCb.filter())
async def cleanup_button(query: CallbackQuery, core: Core) -> None:
    message = message_of(query)
    if message is None:
        await query.answer(BUTTON_EXPIRED)
        return
    text = await core.commands.cleanup(key_of(message), query.from_user.id)
    await query.answer()  # one answer: the message below, not also a toast
    await core.outboxes.send_text(key_of(message), text, reply_to=message.message_id)


@router.message(Command("resume"))
async def resume(message: Message, core: Core) -> None:
    choices = await core.commands.resume_options(key_of(message))
    if not choices:
        await _answer(core, message, "There are no earlier conversations to resume in this chat's directory.")
        return
    keyboard = resume_keyboard([(choice.session_id, choice.label) for choice in choices])
    await _answer(core, message, "Pick a conversation to continue (newest first):", reply_markup=keyboard)


@router.callback_query(ResumeCb.filter())
async def resume_button(query: CallbackQuery, callback_data: ResumeCb, core: Core) -> None:
    if (message := await button_message(query)) is None:
        return
    key = key_of(message)
    text = await core.commands.resume(key, callback_data.session_id)
    await query.answer()
    await core.outboxes.send_text(key, text, parse_mode="HTML")
