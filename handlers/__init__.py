"""aiogram Routers, one per feature (a command and its buttons together): translate Telegram updates into calls on the core, and answers back."""

from __future__ import annotations

from aiogram.filters import ExceptionTypeFilter

from bot.app import Core
from bot.errors import SAID_IN_CHAT
from bot.telegram.intake import GatedDispatcher
from handlers import (
    approvals, conversation, diff, drafts, edits, export, files, membership, messages, migration, review, settings,
    sharing, usage, voice, worktrees,
)
from handlers.context import say_refusal
from handlers.intake import ConfirmMiddleware, InboxMiddleware
from handlers.middlewares import AccessMiddleware, StaleUpdateMiddleware


def build_dispatcher(core: Core) -> GatedDispatcher:
    dispatcher = GatedDispatcher(core=core)
    # Outermost first: polling confirms an update only once it is recorded or handled.
    dispatcher.update.outer_middleware(ConfirmMiddleware(dispatcher))
    dispatcher.update.outer_middleware(AccessMiddleware(core))
    dispatcher.update.outer_middleware(StaleUpdateMiddleware(core))
    dispatcher.update.outer_middleware(InboxMiddleware(core))
    dispatcher.errors.register(say_refusal, ExceptionTypeFilter(*SAID_IN_CHAT))
    # Order matters: the bot added to a group (membership.py, my_chat_member only) and a group
    # upgrade's service message are handled first, whoever sent it; a text reply to one of Claude's
    # requests is an answer even when it looks like /mode or /file (approvals before settings and
    # files), and messages.py holds the catch-alls.
    dispatcher.include_routers(
        membership.router, migration.router, drafts.router, review.router, conversation.router, sharing.router, approvals.router, settings.router,
        files.router, voice.router, usage.router, diff.router, worktrees.router, export.router, edits.router,
        messages.router,
    )
    return dispatcher
