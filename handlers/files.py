"""Documents and photos into the chat's directory (and to Claude); /file sends one back."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.app import Core
from bot.errors import Refused
from bot.sessions.inbox import Accepted
from bot.telegram.files import upload_of
from handlers.context import key_of, turn_from

router = Router(name="files")


@router.message(F.document | F.photo)
async def received(message: Message, core: Core, bot: Bot, accepted: Accepted | None = None) -> None:
    upload = upload_of(bot, message)
    assert upload is not None  # the filter guarantees a document or a photo
    turn = turn_from(message, (message.caption or "").strip(), accepted)
    # An album's files wait for each other (one turn); hold before any await, to keep Telegram's order.
    album = message.media_group_id is not None
    slot = core.gather.hold(turn.key, turn.user_id, starts_group=album, apart=not album)
    try:
        await core.usage.check(await core.manager.for_chat(turn.key, turn.chat_title))  # the upload would start a turn
    except Refused:
        if slot is not None:
            core.gather.fill(slot, None)  # answered by the refusal
        raise
    await core.files.receive(turn, upload, slot)


@router.message(Command("file"))
async def send_file(message: Message, command: CommandObject, core: Core) -> None:
    refusal = await core.files.send(key_of(message), command.args or "", reply_to=message.message_id)
    if refusal:
        await core.outboxes.send_text(key_of(message), refusal, reply_to=message.message_id)
