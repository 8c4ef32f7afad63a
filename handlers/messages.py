"""Plain messages become Claude turns; unknown commands get a pointer to /help."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.app import Core
from bot.sessions.session import Turn
from bot.turns.gather import PASTE_PART
from handlers.context import chat_title, key_of, prompt_of, user_name

router = Router(name="messages")


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message, core: Core) -> None:
    name = (message.text or "").split()[0][:64]
    await core.outboxes.send_text(
        key_of(message), f"Unknown command {name}. /help lists the commands.", reply_to=message.message_id
    )


@router.message(F.text)
async def text(message: Message, core: Core, bot: Bot) -> None:
    key = key_of(message)
    prompt = await prompt_of(message, bot)
    if not prompt:
        await core.outboxes.send_text(key, "That message is empty; send some text for Claude.", reply_to=message.message_id)
        return
    title = chat_title(message.chat)
    # A part of a long paste (or a message right after one) waits briefly for the rest.
    slot = core.gather.hold(key, message.from_user.id if message.from_user else None, starts_group=len(message.text or "") >= PASTE_PART)
    turn = Turn(
        key=key,
        prompt=prompt,
        reply_to=message.message_id,
        user_id=message.from_user.id if message.from_user else None,
        user_name=user_name(message.from_user),
        chat_title=title,
    )
    if slot is not None:
        core.gather.fill(slot, turn)
        return
    await core.scheduler.submit(await core.manager.for_chat(key, title), turn)


@router.message()
async def unsupported(message: Message, core: Core) -> None:
    await core.outboxes.send_text(
        key_of(message), "I can only pass text, documents, photos and voice messages to Claude.", reply_to=message.message_id
    )
