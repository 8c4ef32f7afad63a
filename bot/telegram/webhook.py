"""Webhook mode: serve Telegram's posts with aiogram's own aiohttp handler instead of polling.

The listener starts first and the webhook is registered after, so no delivery finds nobody there.
A request without the secret Telegram was given (X-Telegram-Bot-Api-Secret-Token) gets 401 and
never reaches a handler. The webhook stays registered when the bot stops: Telegram keeps the
updates meanwhile and delivers them once it is back.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.telegram.intake import GatedDispatcher
from bot.telegram.webapp import mount

log = logging.getLogger(__name__)


class GatedRequestHandler(SimpleRequestHandler):
    """Handles each update in the background, but answers Telegram's request only once the update
    is recorded in the inbox (or needed no record), so an acknowledged update is never lost."""

    dispatcher: GatedDispatcher

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        update = await request.json(loads=bot.session.json_loads)
        update_id = int(update.get("update_id", 0))
        self.dispatcher.gate(update_id)
        task = asyncio.create_task(self._background_feed_update(bot=bot, update=update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        task.add_done_callback(lambda _: self.dispatcher.release(update_id))
        await self.dispatcher.passed(update_id)
        return web.json_response({}, dumps=bot.session.json_dumps)


class WebhookRefused(Exception):
    """Telegram does not accept the webhook URL or secret; one line for the operator."""


async def serve_webhook(
    dispatcher: GatedDispatcher, bot: Bot, *, url: str, listen: tuple[str, int], secret: str, allowed_updates: list[str],
    webapp: web.Application | None = None,
) -> None:
    """Serve updates posted to `url`'s path on `listen` until SIGTERM or SIGINT (and the review page at its own path)."""
    path = urlsplit(url).path or "/"
    app = web.Application()
    GatedRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(app, path=path)
    if webapp is not None:
        mount(app, webapp)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    for sig in stop_signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        host, port = listen
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise WebhookRefused(f"WEBHOOK_LISTEN {host}:{port}: {exc.strerror or exc}") from None
        try:
            await bot.set_webhook(url, secret_token=secret, allowed_updates=allowed_updates)
        except TelegramBadRequest as exc:
            raise WebhookRefused(f"TELEGRAM_WEBHOOK_URL: Telegram refuses the webhook ({exc.message})") from None
        log.info("webhook registered; serving %s on %s:%d", path, host, port)
        await dispatcher.emit_startup(bot=bot)
        await stop.wait()
        await dispatcher.emit_shutdown(bot=bot)
    finally:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
        await runner.cleanup()
