"""Telegram's own stop button on a draft (Bot API 10.3 `stopped_message_generation`): stops the turn as /stop does.

The update names no sender, so it is acted on only for a draft this bot is streaming in that
very chat and thread with that draft id (bot/telegram/drafts.py); every other one is ignored.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import MessageGenerationStopped

from bot.app import Core
from bot.sessions.keys import ChatKey

log = logging.getLogger(__name__)

router = Router(name="drafts")


@router.stopped_message_generation()
async def stopped(event: MessageGenerationStopped, core: Core) -> None:
    key = ChatKey(event.chat.id, event.message_thread_id)
    draft = core.outboxes.drafts.stopped(key, event.draft_id)
    if draft is None:
        log.info("ignored a stop of draft %s in %s: no such draft is streaming there", event.draft_id, key)
        return
    # Its turn ends "⏹ Stopped." with the answer so far, which is all the user sees of the stop.
    await core.commands.stop_session(key, draft.session_name)
