"""Fixtures shared by unit tests of several packages."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.turns.mirror import MirrorSettings

BotApi = tuple[MirrorSettings, list[dict[str, str]]]  # settings pointing at the stand-in, and its calls


@pytest.fixture()
async def bot_api(tmp_path: Path) -> AsyncIterator[BotApi]:
    """A Bot API stand-in answering sendMessage; the text "fail" gets a 400."""
    calls: list[dict[str, str]] = []

    async def send_message(request: web.Request) -> web.Response:
        form = dict(await request.post())
        calls.append({k: str(v) for k, v in form.items()})
        if form["text"] == "fail":
            error = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            return web.json_response(error, status=400)
        chat = {"id": int(str(form["chat_id"])), "type": "group"}
        message = {"message_id": 100 + len(calls), "date": 0, "chat": chat, "text": form["text"]}
        return web.json_response({"ok": True, "result": message})

    app = web.Application()
    app.router.add_post("/bot123:abc/sendMessage", send_message)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    settings = MirrorSettings(
        telegram_bot_token="123:abc", telegram_api_url=f"http://127.0.0.1:{port}", session_dir=tmp_path
    )
    yield settings, calls
    await runner.cleanup()
