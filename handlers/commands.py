"""Chat commands: translate the Telegram message, call bot.features.conversation, send the text back."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.app import Core
from bot.features.conversation import ChatCommands
from bot.telegram.keyboards import cleanup_keyboard, resume_keyboard
from handlers.context import chat_title, key_of

router = Router(name="commands")


async def _answer(core: Core, message: Message, text: str, **kwargs: object) -> None:
    await core.outboxes.send_text(key_of(message), text, parse_mode="HTML", reply_to=message.message_id, **kwargs)


@router.message(CommandStart())
@router.message(Command("help"))
async def start(message: Message, core: Core, commands: ChatCommands) -> None:
    await _answer(core, message, await commands.help(key_of(message), chat_title(message.chat)))


@router.message(Command("status"))
async def status(message: Message, core: Core, commands: ChatCommands) -> None:
    await _answer(core, message, await commands.status(key_of(message)))


@router.message(Command("new"))
async def new(message: Message, core: Core, commands: ChatCommands) -> None:
    await _answer(core, message, await commands.new_conversation(key_of(message)))


@router.message(Command("stop"))
async def stop(message: Message, core: Core, commands: ChatCommands) -> None:
    await _answer(core, message, await commands.stop(key_of(message)))


@router.message(Command("cd"))
async def cd(message: Message, command: CommandObject, core: Core, commands: ChatCommands) -> None:
    await _answer(core, message, await commands.change_dir(key_of(message), command.args or ""))


@router.message(Command("sessions"))
async def sessions(message: Message, command: CommandObject, core: Core, commands: ChatCommands) -> None:
    argument = (command.args or "").strip().lower()
    user_id = message.from_user.id if message.from_user else None
    if argument == "cleanup":
        await _answer(core, message, await commands.cleanup(key_of(message), user_id))
    elif argument:
        await _answer(core, message, "Use /sessions to list sessions or /sessions cleanup to remove idle ones.")
    else:
        await _answer(core, message, await commands.sessions(key_of(message), user_id), reply_markup=cleanup_keyboard())


@router.message(Command("resume"))
async def resume(message: Message, core: Core, commands: ChatCommands) -> None:
    choices = await commands.resume_options(key_of(message))
    if not choices:
        await _answer(core, message, "There are no earlier conversations to resume in this chat's directory.")
        return
    keyboard = resume_keyboard([(choice.session_id, choice.label) for choice in choices])
    await _answer(core, message, "Pick a conversation to continue (newest first):", reply_markup=keyboard)
