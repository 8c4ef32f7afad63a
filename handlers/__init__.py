"""aiogram Routers: translate Telegram updates into calls on the core, and answers back."""

from __future__ import annotations

from aiogram import Dispatcher

from bot.app import Core
from bot.features.conversation import ChatCommands
from bot.features.sharing import SharingCommands
from handlers import callbacks, commands, control, edits, files, messages, migration, sharing, voice
from handlers.middlewares import AccessMiddleware, StaleUpdateMiddleware


def build_dispatcher(core: Core) -> Dispatcher:
    dispatcher = Dispatcher(core=core, commands=ChatCommands(core), sharing=SharingCommands(core))
    dispatcher.update.outer_middleware(AccessMiddleware(core))
    dispatcher.update.outer_middleware(StaleUpdateMiddleware(core))
    # Order matters: commands and buttons before the catch-all message router.
    dispatcher.include_routers(migration.router, commands.router, sharing.router, control.router, files.router, voice.router, edits.router, callbacks.router, messages.router)
    return dispatcher
