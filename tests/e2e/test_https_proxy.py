"""The HTTPS reverse proxy the tests put in front of the bot's Mini App listener (tests/e2e/https_proxy.py):
TLS outside, the plain HTTP answer inside passed through, 502 while nothing listens."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.e2e.browser import Browser
from tests.e2e.https_proxy import HttpsProxy
from tests.e2e.tls import client_context

pytestmark = pytest.mark.e2e


async def _plain_server() -> tuple[web.AppRunner, str, list[dict[str, str]]]:
    seen: list[dict[str, str]] = []

    async def page(request: web.Request) -> web.Response:
        seen.append({**request.headers, "body": (await request.text()), "path": request.path_qs})
        response = web.Response(text=f"<p id=p>{request.method} {request.path_qs}</p>", content_type="text/html")
        response.set_cookie("session", "x", secure=True, httponly=True)
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}", seen  # type: ignore[union-attr]


async def test_the_proxy_serves_the_plain_listener_over_https(tmp_path: Path) -> None:
    runner, upstream, seen = await _plain_server()
    try:
        async with HttpsProxy(tmp_path) as proxy, aiohttp.ClientSession() as client:
            assert proxy.url.startswith("https://127.0.0.1:") and proxy.cert is not None
            ssl = client_context(proxy.cert)  # the certificate is for 127.0.0.1: verified, not ignored
            async with client.get(proxy.url + "/app/?chat=1", ssl=ssl) as response:
                assert response.status == 502  # nothing behind it yet
            proxy.upstream = upstream
            async with client.post(proxy.url + "/api/revert?x=1", data="file=a.py", ssl=ssl) as response:
                assert response.status == 200
                assert await response.text() == "<p id=p>POST /api/revert?x=1</p>"
                assert "Secure" in response.headers["Set-Cookie"]
            assert seen[-1]["body"] == "file=a.py" and seen[-1]["X-Forwarded-Proto"] == "https"
            assert seen[-1]["Host"] == proxy.url.removeprefix("https://")  # the public host, as `proxy_set_header Host`
            async with Browser.launch(tmp_path) as browser:
                page = await browser.open(proxy.url + "/app/")
                assert await page.text("#p") == "GET /app/"
            assert ("POST", "/api/revert?x=1", 200) in proxy.forwarded and ("GET", "/app/?chat=1", 502) in proxy.forwarded
    finally:
        await runner.cleanup()
