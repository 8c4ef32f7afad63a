"""Entry point: `python -m bot` runs the bot (also the `tg-claude-code` console script)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiogram import Bot
    from aiohttp import web

    from bot.app import Core
    from bot.confine import Box
    from bot.config import Settings
    from bot.telegram.intake import GatedDispatcher
    from bot.util.botapi import BotIdentity

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
    from bot.claude.prewarm import prewarm

    # Parse every stored file after polling has started: corrupt ones are moved aside early,
    # and a large SESSION_DIR does not delay the first answer.
    await core.runner.preload()
    sessions = await core.manager.load_all()
    log.info("restored %d sessions from %s", len(sessions), core.settings.session_dir)
    await prewarm(core.runner, sessions, core.scheduler.is_running)


async def _carry_on(core: Core, dispatcher: GatedDispatcher, bot: Bot) -> None:
    """Handle again, in their order, the messages accepted before the last stop and not yet answered."""
    from aiogram.types import Update

    pending = await asyncio.to_thread(core.inbox.load)
    if pending:
        log.info("carrying on %d accepted messages from before the restart", len(pending))
    # No turn starts before all are queued: messages that ran together go on together, and only then
    # do the ones that waited behind them merge (bot/turns/batch.py).
    with core.scheduler.holding():
        for accepted in pending:
            try:
                update = Update.model_validate(accepted.update, context={"bot": bot})
                await dispatcher.feed_update(bot, update, replayed=accepted)
            except Exception:  # one bad entry must not keep the others (or the bot) from going on
                log.exception("could not carry on update %s", accepted.update_id)
                await core.inbox.settle(accepted)


class StartRefused(Exception):
    """Telegram refuses the token or the webhook: one line on stderr, exit status 2 (retrying cannot help)."""


async def _bot_api_ready(bot: Bot, settings: Settings) -> BotIdentity | None:
    """Wait for the Bot API (getMe); None if stopped by a signal meanwhile. Raises StartRefused."""
    from bot.claude.credentials import MISSING, find_credentials
    from bot.telegram.probe import wait_until_reachable
    from bot.util.botapi import TokenRefused

    loop = asyncio.get_running_loop()
    waiting = asyncio.ensure_future(wait_until_reachable(bot, settings.telegram_api_url))
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    for sig in stop_signals:  # polling installs its own handlers later; until then a signal ends the wait
        loop.add_signal_handler(sig, waiting.cancel)
    try:
        identity = await waiting
    except asyncio.CancelledError:
        log.info("stopped while waiting for the Bot API")
        return None
    except TokenRefused as exc:
        raise StartRefused(f"TELEGRAM_BOT_TOKEN: {exc}; copy the token again from @BotFather") from None
    finally:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
    log.info("signed in as @%s", identity.username)
    if find_credentials() is None:
        log.warning("%s; every turn will fail until then", MISSING)
    return identity


async def _drop_webhook(bot: Bot) -> None:
    # A webhook left from webhook mode would make every getUpdates fail with 409.
    try:
        await bot.delete_webhook()
    except Exception as exc:  # polling then reports the conflict itself
        log.warning("could not remove an earlier webhook: %s", exc)


async def run(settings: Settings, box: Box) -> None:
    # Imported here so `python -m bot identity …` starts fast without loading the whole bot.
    from bot.app import build_core
    from bot.telegram.client import make_bot
    from handlers import build_dispatcher

    bot = make_bot(settings.telegram_bot_token, settings.telegram_api_url)
    ready = None
    try:
        ready = await _bot_api_ready(bot, settings)
    finally:
        if not ready:
            await bot.session.close()
    if not ready:
        return
    for note in box.notes:  # only now: a start refused before this point stays one line
        log.info("%s", note)
    (log.info if box.confined else log.warning)("%s", box.describe())
    core = build_core(settings, bot, box)
    webapp = _webapp(core)
    if core.review_buttons is not None:
        core.review_buttons.username = ready.username or ""
    log.info("MAX_LIVE_CLIENTS %d (%s)", settings.max_live_clients, settings.live_clients_origin)
    indexed = core.manager.restore()
    log.info("%d stored sessions in %s", indexed, settings.session_dir)
    dispatcher = build_dispatcher(core)
    core.runner.start()
    await _carry_on(core, dispatcher, bot)  # before new updates, so they keep their place ahead of them
    restore = asyncio.create_task(_restore_in_background(core))
    await _register_commands(bot)
    allowed_updates = dispatcher.resolve_used_update_types()
    webapp_runner = None
    try:
        if settings.telegram_webhook_url:
            from bot.telegram.webhook import WebhookRefused, serve_webhook

            try:
                await serve_webhook(
                    dispatcher, bot, url=settings.telegram_webhook_url, listen=settings.webhook_address,
                    secret=settings.webhook_secret or "", allowed_updates=allowed_updates, webapp=webapp,
                )
            except WebhookRefused as exc:
                raise StartRefused(str(exc)) from None
        else:
            if webapp is not None:
                from bot.telegram.webapp import ListenRefused, listen

                try:
                    webapp_runner = await listen(webapp, settings.webapp_address, settings.webapp_cert, settings.webapp_key)
                except ListenRefused as exc:
                    raise StartRefused(str(exc)) from None
            await _drop_webhook(bot)
            await dispatcher.start_polling(bot, handle_signals=True, close_bot_session=False, allowed_updates=allowed_updates)
    finally:
        if webapp_runner is not None:
            await webapp_runner.cleanup()
        log.info("shutting down: saving sessions")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second signal: stop now, not after the grace
            loop.add_signal_handler(sig, core.scheduler.hurry)
        restore.cancel()
        await core.store.flush()
        await core.intake.flush()  # a paste or album still gathering is queued (kept in the inbox)
        await core.scheduler.shutdown(settings.shutdown_grace_seconds)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(core.outboxes.close(), timeout=1 if core.scheduler.hurried else SHUTDOWN_FLUSH_SECONDS)
        await core.runner.close_all()
        await core.store.flush()
        await bot.session.close()
        log.info("stopped")


def _webapp(core: Core) -> web.Application | None:
    """The review Mini App (WEBAPP_URL), its init data checked with the bot's token."""
    if core.reviews is None or not core.settings.webapp_url:
        return None
    from bot.telegram.webapp import init_data_check
    from bot.webapp.pending import Waiting
    from bot.webapp.server import build_app

    return build_app(
        core.reviews, init_data_check(core.settings.telegram_bot_token), core.settings.allowed_users,
        public_url=core.settings.webapp_url, waiting=Waiting(core.approvals, core.reviews),
    )


def _open_box(settings: Settings) -> Box:
    """The box Claude Code and the bot's git run in (one line saying what holds), or exit 2 with the reason."""
    from bot.claude.cli_limits import refused_in
    from bot.confine import BoxRefused, open_box
    from bot.confine.wanted import wanted_from
    from bot.util import git

    try:
        box = open_box(wanted_from(settings))
    except BoxRefused as exc:
        print(f"config error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    reason = refused_in(box, settings.allow_unconfined_bypass).get(settings.claude_permission_mode)
    if reason:
        print(f"config error: CLAUDE_PERMISSION_MODE {settings.claude_permission_mode} cannot be used here: {reason}", file=sys.stderr)
        raise SystemExit(2)
    if box.confined:  # the SDK's transcript helpers (/export, /resume) read where the boxed CLI writes
        os.environ["CLAUDE_CONFIG_DIR"] = str(box.layout.state)
    git.confine(box.command)
    return box


def _parser() -> argparse.ArgumentParser:
    from bot import __version__
    from bot.config import APP_NAME

    prog = "python -m bot" if sys.argv[0].endswith("__main__.py") else os.path.basename(sys.argv[0]) or APP_NAME
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Claude Code in every Telegram chat. Settings come from the environment, then the configuration "
        "file (TG_CLAUDE_CODE_CONFIG, else ~/.config/tg-claude-code/config.env; see README).",
        epilog="commands:\n"
        "  init               set up: the token, your user id, the workspace, Claude's login (init --help)\n"
        "  run (default)      serve the chats\n"
        "  doctor             check the set-up and print a checklist with the fix for each failure\n"
        "  login              log Claude Code in with your Claude subscription (login --help)\n"
        "  identity …         link chats to share a session (identity --help)\n"
        "  notify …           send a message to a chat and record it for Claude (notify --help)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "doctor", "init", "login"], metavar="command", help="run (default), doctor, init or login")
    return parser


def _login(args: list[str], prog: str) -> int:
    from bot.setup.init import config_path
    from bot.setup.login import login
    from bot.setup.terminal import Terminal

    parser = argparse.ArgumentParser(prog=f"{prog} login", description="Log Claude Code in for the bot (Claude subscription).")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--token", action="store_true", help="`setup-token`: a long-lived token written to the configuration file (servers without a browser)")
    how.add_argument("--browser", action="store_true", help="`auth login`: Claude Code's own login (the default where a browser can open)")
    options = parser.parse_args(args)
    return login(Terminal(), config_path(), token=True if options.token else False if options.browser else None)


def _dependencies_missing() -> str | None:
    """Run by a Python without the bot's dependencies (not the .venv): one sentence, not a traceback."""
    import importlib.util

    for name in ("platformdirs", "pydantic_settings", "aiogram", "claude_agent_sdk"):
        if importlib.util.find_spec(name) is None:
            return (
                f"error: {sys.executable} has no {name} (the bot's dependencies are in its virtual environment); "
                "use `make run`, `make doctor` or `make init`, or .venv/bin/python -m bot"
            )
    return None


def main() -> None:
    args = sys.argv[1:]
    if missing := _dependencies_missing():
        print(missing, file=sys.stderr)
        raise SystemExit(2)
    if args and args[0] in ("init", "login"):
        prog = _parser().prog
        if args[0] == "login":
            raise SystemExit(_login(args[1:], prog))
        from bot.setup.init import Telegram, main as init_main
        from bot.telegram.first_message import first_message
        from bot.telegram.probe import probe

        raise SystemExit(init_main(args[1:], prog, Telegram(probe, first_message)))
    if args and args[0] in ("identity", "notify"):
        from bot.cli import main as cli_main

        if args[0] == "notify":  # aiogram takes seconds to import, and `identity` does not need it
            from bot.telegram.notify import notify

            raise SystemExit(cli_main(args, deliver=notify))
        raise SystemExit(cli_main(args))
    command = _parser().parse_args(args).command  # --help, --version and unknown words end here
    if command == "doctor":
        from bot.doctor import main as doctor_main
        from bot.telegram.probe import probe

        raise SystemExit(doctor_main(probe))
    from bot.config import load_settings
    from bot.sessions.lock import AlreadyRunning, DirectoryLock
    from bot.util.files import ensure_private_dir

    from bot.security.environment import remove_bot_settings

    settings = load_settings()
    log_level = os.environ.get("LOG_LEVEL", "INFO").upper()
    remove_bot_settings()  # Claude Code inherits this environment: no token, no setting of the bot
    logging.basicConfig(
        level=log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from bot.telegram import poll_log

    poll_log.install()
    # asyncio's one debug line ("Using selector") would precede a start-up error that must stay one line.
    logging.getLogger("asyncio").setLevel(max(logging.INFO, logging.getLogger().level))
    from bot.security import redact

    redactor = redact.install(*settings.secrets())
    from bot.security.ownership import foreign_owner

    problem = foreign_owner(settings.session_dir)
    if problem:
        print(f"config error: {problem}", file=sys.stderr)
        raise SystemExit(2)
    ensure_private_dir(settings.session_dir)
    lock = DirectoryLock(settings.session_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    box = _open_box(settings)
    try:
        asyncio.run(run(settings, box))
    except StartRefused as exc:  # one line, never a traceback (it would carry the token in a URL)
        print(f"error: {redactor.redact(str(exc))}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        lock.release()


if __name__ == "__main__":
    main()
