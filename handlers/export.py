"""/export: the chat's conversation as a Markdown document (bot.features.export)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.app import Core
from bot.features.export import export
from handlers.context import key_of

router = Router(name="export")


@router.message(Command("export"))
async def export_conversation(message: Message, core: Core) -> None:
    key = key_of(message)
    session = await core.manager.for_chat(key)
    document = await export(session)
    if document is None:
        await core.outboxes.send_text(key, "This chat has no conversation to export yet.", reply_to=message.message_id)
        return
    sent = await core.outboxes.send_document(
        key, document.filename, document.data, caption="💬 This chat's conversation.", reply_to=message.message_id
    )
    if sent is None:
        await core.outboxes.send_text(key, "The conversation could not be sent as a file.", reply_to=message.message_id)
