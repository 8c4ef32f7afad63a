"""Plain messages become Claude turns; unknown commands get a pointer to /help; the catch-alls.

Registered last: every feature's commands and buttons come first.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot.app import Core
from bot.sessions.inbox import Accepted
from handlers.context import BUTTON_EXPIRED, key_of, turn_from

router = Router(name="messages")


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message, core: Core) -> None:
    name = (message.text or "").split()[0][:64]
    await core.outboxes.send_text(
        key_of(message), f"Unknown command {name}. /help lists the commands.", reply_to=message.message_id
    )


@router.message(F.text)
async def text(message: Message, core: Core, accepted: Accepted | None = None) -> None:
    turn = turn_from(message, (message.text or "").strip(), accepted)
    if not turn.prompt:
        await core.outboxes.send_text(turn.key, "That message is empty; send some text for Claude.", reply_to=turn.reply_to)
        return
    session = await core.manager.for_chat(turn.key, turn.chat_title)
    await core.scheduler.submit(session, turn)


@router.message()
async def unsupported(message: Message, core: Core) -> None:
    await core.outboxes.send_text(
        key_of(message), "I can only pass text, documents and photos to Claude.", reply_to=message.message_id
    )


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    """Every press is answered; a stale or foreign button only says it expired."""
    await query.answer(BUTTON_EXPIRED)
