"""Plain messages become Claude turns; unknown commands go to Claude Code when it knows them, else get a pointer to /help; the catch-alls.

Registered last: every feature's commands and buttons come first.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message

from bot.app import Core
from bot.features import claude_commands
from bot.sessions.inbox import Accepted
from bot.sessions.session import ClaudeSession, Turn
from bot.turns.gather import PASTE_PART
from handlers.context import BUTTON_EXPIRED, chat_title, key_of, prompt_of, turn_from, user_id_of

router = Router(name="messages")


async def _submit(core: Core, session: ClaudeSession, turn: Turn) -> None:
    """Queue a Claude turn unless a daily budget is used up (then its sentence is the answer)."""
    await core.usage.check(session)
    await core.scheduler.submit(session, turn)


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message, core: Core, bot: Bot, accepted: Accepted | None = None) -> None:
    """A command the bot does not define goes to Claude Code when Claude Code knows it."""
    key = key_of(message)
    name, mention, args = claude_commands.parse(message.text or "")
    session = await core.manager.for_chat(key, chat_title(message.chat))
    for_us = not mention or mention.lower() == ((await bot.me()).username or "").lower()
    if name and for_us and claude_commands.find(session, name) is not None:
        turn = turn_from(message, f"/{name} {args}".rstrip(), accepted)
        turn.command = True
        await _submit(core, session, turn)
        return
    shown = (message.text or "").split()[0][:64]
    await core.outboxes.send_text(key, f"Unknown command {shown}. /help lists the commands.", reply_to=message.message_id)


@router.message(F.text)
async def text(message: Message, core: Core, bot: Bot, accepted: Accepted | None = None) -> None:
    # A part of a long paste (or a message right after one) waits briefly for the rest; held before
    # any await, so the parts keep Telegram's order and an edit right after finds its place.
    paste = len(message.text or "") >= PASTE_PART
    slot = core.gather.hold(key_of(message), user_id_of(message), starts_group=paste, message_id=message.message_id)
    turn = turn_from(message, await prompt_of(message, bot), accepted)
    if not turn.prompt:
        if slot is not None:
            core.gather.fill(slot, None)  # answered here
        await core.outboxes.send_text(turn.key, "That message is empty; send some text for Claude.", reply_to=turn.reply_to)
        return
    if slot is not None:
        core.gather.fill(slot, turn)  # the gathered turn is submitted (budget checked) when the paste ends
        return
    session = await core.manager.for_chat(turn.key, turn.chat_title)
    await _submit(core, session, turn)


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
