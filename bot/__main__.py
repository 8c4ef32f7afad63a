"""Entry point: `python -m bot` runs the bot (also the `claude-telegram-bot` console script)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiogram import Bot

    from bot.app import Core
    from bot.config import Settings

log = logging.getLogger("bot")

SHUTDOWN_FLUSH_SECONDS = 20


async def _register_commands(bot: Bot) -> None:
    from aiogram.types import BotCommand

    from bot.features.texts import COMMANDS

    try:
        await bot.set_my_commands([BotCommand(command=name, description=text) for name, text in COMMANDS])
    except Exception as exc:  # the menu is a convenience; never a reason not to start
        log.warning("could not register the command menu: %s", exc)


async def _restore_in_background(core: Core) -> None:
    # Parse every stored file after polling has started: corrupt ones are moved aside early,
    # and a large SESSION_DIR does not delay the first answer.
    sessions = await core.manager.load_all()
    log.info("restored %d sessions from %s", len(sessions), core.settings.session_dir)
    await core.scheduler.correct_open_replies(sessions)


async def run(settings: Settings) -> None:
    # Imported here so `python -m bot identity …` starts fast without loading the whole bot.
    from bot.app import build_core
    from bot.telegram.client import make_bot
    from handlers import build_dispatcher

    bot = make_bot(settings.telegram_bot_token, settings.telegram_api_url)
    core = build_core(settings, bot)
    indexed = core.manager.restore()
    log.info("%d stored sessions in %s", indexed, settings.session_dir)
    dispatcher = build_dispatcher(core)
    core.runner.start()
    restore = asyncio.create_task(_restore_in_background(core))
    await _register_commands(bot)
    try:
        await dispatcher.start_polling(
            bot, handle_signals=True, close_bot_session=False, allowed_updates=dispatcher.resolve_used_update_types()
        )
    finally:
        log.info("shutting down: saving sessions")
        restore.cancel()
        await core.store.flush()
        await core.gather.flush()  # a paste or album still gathering is queued, then told the bot restarts
        await core.scheduler.shutdown()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(core.outboxes.close(), timeout=SHUTDOWN_FLUSH_SECONDS)
        await core.runner.close_all()
        await core.store.flush()
        await bot.session.close()
        log.info("stopped")


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] in ("identity", "notify"):
        from bot.cli import main as cli_main

        if args[0] == "notify":  # aiogram takes seconds to import, and `identity` does not need it
            from bot.telegram.notify import notify

            raise SystemExit(cli_main(args, deliver=notify))
        raise SystemExit(cli_main(args))
    from bot.config import load_settings
    from bot.sessions.lock import AlreadyRunning, DirectoryLock
    from bot.util.files import ensure_private_dir

    settings = load_settings()
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ensure_private_dir(settings.session_dir)
    lock = DirectoryLock(settings.session_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    try:
        asyncio.run(run(settings))
    finally:
        lock.release()


if __name__ == "__main__":
    main()
