"""The user's HTTPS reverse proxy in front of the bot (Caddy, nginx, a tunnel), played on 127.0.0.1: TLS with a
self-signed certificate outside, plain HTTP to the bot's own listener inside, as README tells a user to serve
the Mini App in polling mode. Requests and responses pass through unchanged but for the hop-by-hop headers;
the bot sees the public Host (Caddy's default, nginx's `proxy_set_header Host $host`) and
X-Forwarded-For/-Proto/-Host as a proxy sets them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import aiohttp
from aiohttp import web

from tests.e2e.tls import self_signed_cert, server_context

# RFC 9110 §7.6.1: meaningful for one connection only, never forwarded.
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length",
})


@dataclass
class HttpsProxy:
    """`url` is the public https://127.0.0.1:PORT; `upstream` (http://host:port) may be set once the bot
    listens; until then, or while the bot is down, the answer is 502 as a real proxy's."""

    tmp_path: Path
    upstream: str | None = None
    url: str = ""
    cert: Path | None = None  # the certificate, for a test's own client (tls.client_context)
    forwarded: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path?query, status)
    _runner: web.AppRunner | None = None
    _client: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HttpsProxy:
        self.cert, key = self_signed_cert(self.tmp_path / "proxy-tls")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=server_context(self.cert, key))
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"https://127.0.0.1:{port}"
        self._client = aiohttp.ClientSession(auto_decompress=False)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None
        target = request.rel_url.path_qs
        if self.upstream is None:
            self.forwarded.append((request.method, target, 502))
            return web.Response(status=502, text="502 Bad Gateway: no upstream yet\n")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        peer = request.remote or "127.0.0.1"
        headers.update({"X-Forwarded-For": peer, "X-Forwarded-Proto": "https", "X-Forwarded-Host": request.host})
        response: web.StreamResponse | None = None
        try:
            async with self._client.request(
                request.method, self.upstream.rstrip("/") + target, headers=headers,
                data=await request.read() if request.body_exists else None, allow_redirects=False,
            ) as upstream:
                response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
                for key, value in upstream.headers.items():
                    if key.lower() not in _HOP_BY_HOP:
                        response.headers.add(key, value)
                await response.prepare(request)
                async for chunk in upstream.content.iter_any():  # streamed: a long poll or events arrive as sent
                    await response.write(chunk)
                await response.write_eof()
                self.forwarded.append((request.method, target, upstream.status))
                return response
        except aiohttp.ClientError:
            self.forwarded.append((request.method, target, 502))
            if response is not None:  # the bot went away mid-answer: the client sees it cut, as behind nginx
                return response
            return web.Response(status=502, text="502 Bad Gateway: the bot is not listening\n")
