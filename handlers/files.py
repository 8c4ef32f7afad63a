"""Documents and photos go to the intake (saved in the chat's directory, then a turn); /file sends one back."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.app import Core
from bot.sessions.inbox import Accepted
from bot.telegram.files import upload_of
from handlers.context import incoming_of, key_of, user_id_of

router = Router(name="files")


@router.message(F.document | F.photo)
async def received(message: Message, core: Core, bot: Bot, accepted: Accepted | None = None) -> None:
    upload = upload_of(bot, message)
    assert upload is not None  # the filter guarantees a document or a photo
    # Its place in an album is taken before any await: files keep Telegram's order.
    album = message.media_group_id is not None
    place = core.intake.arrive_file(key_of(message), user_id_of(message), message.message_id, album=album)
    incoming = await incoming_of(message, bot, accepted, text=(message.caption or "").strip())
    await core.intake.upload(place, incoming, upload)


@router.message(Command("file"))
async def send_file(message: Message, command: CommandObject, core: Core) -> None:
    await core.files.send(key_of(message), command.args or "", reply_to=message.message_id)
