"""/link, /unlink, /links: translate and answer; the rules live in bot.features.sharing."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.app import Core
from handlers.context import chat_title, key_of

router = Router(name="sharing")


@router.message(Command("link"))
async def link(message: Message, command: CommandObject, core: Core) -> None:
    key = key_of(message)
    user_id = message.from_user.id if message.from_user else 0
    text, other = await core.sharing.link(key, user_id, command.args or "")
    await core.outboxes.send_text(key, text, parse_mode="HTML", reply_to=message.message_id)
    if other is not None:
        await core.outboxes.send_text(other, f"🔗 {chat_title(message.chat)} joined this chat's conversation.")


@router.message(Command("unlink"))
async def unlink(message: Message, core: Core) -> None:
    key = key_of(message)
    text, others, notice = await core.sharing.unlink(key)
    await core.outboxes.send_text(key, text, parse_mode="HTML", reply_to=message.message_id)
    for other in others:
        await core.outboxes.send_text(other, notice, parse_mode="HTML")


@router.message(Command("links"))
async def links(message: Message, core: Core) -> None:
    key = key_of(message)
    await core.outboxes.send_text(key, await core.sharing.links_text(key), parse_mode="HTML", reply_to=message.message_id)
