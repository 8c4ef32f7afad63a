"""/diff and the Diff button under a turn that changed files (bot.features.diff)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.app import Core
from bot.features import diff
from bot.sessions.keys import ChatKey
from bot.telegram.keyboards import DiffCb
from handlers.context import button_chat, key_of

router = Router(name="diff")


async def _send(core: Core, key: ChatKey, reply: diff.DiffReply, reply_to: int | None) -> None:
    await core.outboxes.send_text(key, reply.html, parse_mode="HTML", reply_to=reply_to)
    if reply.document is not None and await core.outboxes.send_document(key, "changes.diff", reply.document) is None:
        await core.outboxes.send_text(key, "The diff could not be sent as a file.")


@router.message(Command("diff"))
async def show_last(message: Message, core: Core) -> None:
    key = key_of(message)
    session = await core.manager.for_chat(key)
    await _send(core, key, await diff.show(session), message.message_id)


@router.callback_query(DiffCb.filter())
async def show_button(query: CallbackQuery, callback_data: DiffCb, core: Core) -> None:
    if (pressed := await button_chat(query, core)) is None:
        return
    message, session = pressed
    await _send(core, key_of(message), await diff.show(session, callback_data.base, callback_data.head), message.message_id)
