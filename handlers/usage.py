"""/usage: tokens and cost for this chat and the whole bot (bot.features.usage)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.app import Core
from handlers.context import key_of

router = Router(name="usage")


@router.message(Command("usage"))
async def usage(message: Message, core: Core) -> None:
    key = key_of(message)
    session = await core.manager.for_chat(key)
    await core.outboxes.send_text(key, await core.usage.text(session), parse_mode="HTML", reply_to=message.message_id)
