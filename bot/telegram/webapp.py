"""The review Mini App's Telegram side: init data checked with aiogram's helper, the buttons that open it,
and its listener in polling mode (in webhook mode the webhook server serves it, bot/telegram/webhook.py).

Telegram allows `web_app` buttons only in private chats; in a group the button is a t.me link that opens
the private chat with `/start rv_…`, which answers with the web_app button for that group's chat.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiohttp import web

from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef
from bot.webapp.auth import InitDataCheck, Viewer
from bot.webapp.links import PENDING, page_url, pending_url, start_payload
from bot.webapp.server import ROOT

log = logging.getLogger(__name__)

LABEL = "📱 Review"
WAITING = "⏳ Waiting"


def init_data_check(token: str) -> InitDataCheck:
    def check(init_data: str) -> Viewer:
        data = safe_parse_webapp_init_data(token, init_data)  # ValueError unless the bot's token signed it
        if data.user is None:
            raise ValueError("init data without a user")
        name = " ".join(part for part in (data.user.first_name, data.user.last_name) if part)
        return Viewer(user_id=data.user.id, name=name or str(data.user.id), auth_date=data.auth_date.timestamp())

    return check


class ReviewButtons:
    """The button that opens the review page for a chat (and a turn): web_app in private chats, a link elsewhere."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.username = ""  # the bot's, from getMe at start; groups get no button until it is known

    def button(self, key: ChatKey, change: ChangeRef | None = None, text: str = LABEL) -> InlineKeyboardButton | None:
        if key.chat_id > 0:
            return _opens(text, page_url(self.url, key, change))
        return self._link(text, start_payload(key, change))

    def keyboard(self, key: ChatKey, change: ChangeRef | None = None) -> InlineKeyboardMarkup | None:
        button = self.button(key, change)
        return InlineKeyboardMarkup(inline_keyboard=[[button]]) if button else None

    def status_keyboard(self, key: ChatKey) -> InlineKeyboardMarkup | None:
        """/status: this chat's review page, and the page of everything waiting for the user's answer."""
        waiting = _opens(WAITING, pending_url(self.url)) if key.chat_id > 0 else self._link(WAITING, PENDING)
        buttons = [button for button in (self.button(key), waiting) if button]
        return InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None

    def opener(self, key: ChatKey, change: ChangeRef | None = None) -> InlineKeyboardMarkup:
        """The private chat's answer to a group's link: the web_app button for that group's page."""
        return InlineKeyboardMarkup(inline_keyboard=[[_opens(LABEL, page_url(self.url, key, change))]])

    def pending_opener(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[[_opens(WAITING, pending_url(self.url))]])

    def _link(self, text: str, payload: str) -> InlineKeyboardButton | None:
        """Outside private chats: a t.me link that opens the private chat with /start PAYLOAD (none before getMe)."""
        return InlineKeyboardButton(text=text, url=f"https://t.me/{self.username}?start={payload}") if self.username else None


def _opens(text: str, url: str) -> InlineKeyboardButton:
    """A web_app button (Telegram takes them in private chats only)."""
    return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=url))


class ListenRefused(Exception):
    """WEBAPP_LISTEN cannot be listened on, or its certificate cannot be used: one line for the operator."""


async def listen(app: web.Application, address: tuple[str, int], cert: Path | None, key: Path | None) -> web.AppRunner:
    """Serve the Mini App on its own listener (polling mode); the caller cleans the runner up."""
    context = None
    if cert is not None and key is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(cert.expanduser(), key.expanduser())
        except (OSError, ssl.SSLError) as exc:
            raise ListenRefused(f"WEBAPP_CERT/WEBAPP_KEY cannot be used: {exc}") from None
    if app[ROOT] == "/":
        root = app
    else:
        root = web.Application()
        mount(root, app)
    runner = web.AppRunner(root, handle_signals=False, access_log=None)
    await runner.setup()
    host, port = address
    try:
        await web.TCPSite(runner, host, port, ssl_context=context).start()
    except OSError as exc:
        await runner.cleanup()
        raise ListenRefused(f"WEBAPP_LISTEN {host}:{port}: {exc.strerror or exc}") from None
    log.info("review page served on %s://%s:%d%s", "https" if context else "http", host, port, app[ROOT])
    return runner


def mount(root: web.Application, app: web.Application) -> None:
    """The Mini App at its own path under `root` (the webhook server's; config.py keeps that path off "/")."""
    root.add_subapp(app[ROOT].rstrip("/"), app)
