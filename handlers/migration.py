"""Group upgrades: the service messages that say a group got a new (supergroup) id."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.app import Core

router = Router(name="migration")


def is_migration(message: Message) -> bool:
    """A group-upgrade service message: handled whoever sent it and however late it arrives."""
    return bool(message.migrate_to_chat_id or message.migrate_from_chat_id)


@router.message(F.migrate_to_chat_id)
async def upgraded_to(message: Message, core: Core) -> None:
    await _move(core, message.chat.id, message.migrate_to_chat_id or 0)


@router.message(F.migrate_from_chat_id)
async def upgraded_from(message: Message, core: Core) -> None:
    await _move(core, message.migrate_from_chat_id or 0, message.chat.id)


async def _move(core: Core, old_id: int, new_id: int) -> None:
    core.outboxes.move_chat(old_id, new_id)
    await core.moves.move(old_id, new_id)
