"""Plain messages and commands the bot does not define go to the intake; the catch-alls.

Registered last: every feature's commands and buttons come first.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message

from bot.app import Core
from bot.sessions.inbox import Accepted
from handlers.context import BUTTON_EXPIRED, incoming_of, key_of, user_id_of

router = Router(name="messages")


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message, core: Core, bot: Bot, accepted: Accepted | None = None) -> None:
    """Claude Code's own slash commands go to Claude; any other gets a pointer to /help."""
    incoming = await incoming_of(message, bot, accepted, text=message.text or "")
    await core.intake.command(incoming, bot_username=(await bot.me()).username or "")


@router.message(F.text)
async def text(message: Message, core: Core, bot: Bot, accepted: Accepted | None = None) -> None:
    # Its place in a paste is taken before any await: parts keep Telegram's order.
    place = core.intake.arrive_text(key_of(message), user_id_of(message), message.message_id, message.text or "")
    await core.intake.text(place, await incoming_of(message, bot, accepted))


@router.message()
async def unsupported(message: Message, core: Core) -> None:
    if message.new_chat_members or message.left_chat_member:  # Telegram's notes on who joined or left
        return
    await core.outboxes.send_text(
        key_of(message), "I can only pass text, documents, photos and voice messages to Claude.", reply_to=message.message_id
    )


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    """Every press is answered; a stale or foreign button only says it expired."""
    await query.answer(BUTTON_EXPIRED)
