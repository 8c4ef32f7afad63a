"""The bot added to a group: it leaves when whoever added it is not one of ALLOWED_USERS (or the
group is not in ALLOWED_CHATS), so a stranger's group never gets replies, requests or files."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatMemberUpdated

from bot.app import Core
from bot.security.access import should_leave

log = logging.getLogger(__name__)

router = Router(name="membership")


@router.my_chat_member()
async def bot_membership(update: ChatMemberUpdated, core: Core, bot: Bot) -> None:
    added_by = update.from_user.id if update.from_user else None
    leave = should_leave(
        chat_id=update.chat.id,
        chat_type=update.chat.type,
        added_by=added_by,
        old_status=update.old_chat_member.status,
        new_status=update.new_chat_member.status,
        allowed_users=core.settings.allowed_users,
        allowed_chats=core.settings.allowed_chats,
    )
    if not leave:
        return
    log.warning("added to chat %s by user %s, who may not add it; leaving", update.chat.id, added_by)
    try:
        await bot.leave_chat(update.chat.id)
    except TelegramAPIError as exc:
        log.warning("could not leave chat %s: %s", update.chat.id, exc)
