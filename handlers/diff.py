"""/diff and the Diff button under a turn that changed files (bot.features.diff)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.app import Core
from bot.features import diff
from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef
from bot.telegram.keyboards import DiffCb
from handlers.context import button_chat, key_of

router = Router(name="diff")


async def _send(core: Core, key: ChatKey, reply: diff.DiffReply, reply_to: int | None, change: ChangeRef | None = None) -> None:
    # With WEBAPP_URL, the review page for the same change (and the chat's uncommitted one) is a tap away.
    markup = core.review_buttons.keyboard(key, change) if core.review_buttons else None
    await core.outboxes.send_text(key, reply.html, parse_mode="HTML", reply_to=reply_to, reply_markup=markup)
    if reply.document is not None and await core.outboxes.send_document(key, "changes.diff", reply.document) is None:
        await core.outboxes.send_text(key, "The diff could not be sent as a file.")


@router.message(Command("diff"))
async def show_last(message: Message, core: Core) -> None:
    key = key_of(message)
    session = await core.manager.for_chat(key)
    await _send(core, key, await diff.show(session), message.message_id, diff.find(session))


@router.callback_query(DiffCb.filter())
async def show_button(query: CallbackQuery, callback_data: DiffCb, core: Core) -> None:
    if (pressed := await button_chat(query, core)) is None:
        return
    message, session = pressed
    base, head = callback_data.base, callback_data.head
    await _send(core, key_of(message), await diff.show(session, base, head), message.message_id, diff.find(session, base, head))
