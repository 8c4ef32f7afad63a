"""The Mini App over HTTP (aiohttp): the static page, and its JSON API behind Telegram's init data.

The page itself (static/) holds nothing private and loads without init data; every /api request
carries `Authorization: tma <initData>`. Cross-site requests cannot act: the API wants that custom
header and JSON bodies (a cross-origin fetch would need a CORS preflight, which is never granted), and
an Origin or Sec-Fetch-Site that names another site is refused outright. Every answer says no to
framing by strangers, to sniffing and to referrers; the API's are never cached.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.webapp.auth import MAX_AGE, InitDataCheck, Refusal, Viewer, viewer_of
from bot.webapp.pending import Waiting
from bot.webapp.review import Reviews

log = logging.getLogger(__name__)

STATIC = {  # name → content type; the whole page, served by the bot (no CDN, works offline once loaded)
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self' https://web.telegram.org"  # Telegram Web shows Mini Apps in a frame
)
MAX_BODY = 64 * 1024
ROOT = web.AppKey("root", str)  # the path the page is served at, "/review/"
API = web.AppKey("api", str)
SAME_SITE = {"same-origin", "none"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}{port}"


def _refused(refusal: Refusal) -> web.Response:
    return web.json_response({"error": refusal.sentence}, status=refusal.status)


def build_app(
    reviews: Reviews, check: InitDataCheck, allowed_users: list[int], *, public_url: str, waiting: Waiting | None = None,
    max_age: float = MAX_AGE, clock: Callable[[], float] = time.time,
) -> web.Application:
    """The Mini App, to be served at the path of `public_url` (its origin is the only one allowed to act)."""
    origin = origin_of(public_url)

    @web.middleware
    async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except Refusal as refusal:
            response = _refused(refusal)
        except web.HTTPException as exc:
            response = web.json_response({"error": _http_sentence(exc.status)}, status=exc.status)
        except Exception:  # the page gets one sentence, the log the traceback
            log.exception("review page request %s failed", request.path)
            response = web.json_response({"error": "The bot failed to answer this request; its log says why."}, status=500)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        if request.path.startswith(request.app[API]):
            response.headers["Cache-Control"] = "no-store"
        return response

    def viewer(request: web.Request) -> Viewer:
        return viewer_of(request.headers.get("Authorization"), check, allowed_users, now=clock(), max_age=max_age)

    def same_site(request: web.Request) -> None:
        site = request.headers.get("Sec-Fetch-Site")
        sent_origin = request.headers.get("Origin")
        if (site is not None and site not in SAME_SITE) or (sent_origin is not None and sent_origin.lower() != origin):
            raise Refusal("Another site cannot act on this bot's changes.", 403)

    async def page(request: web.Request) -> web.Response:
        who = viewer(request)
        query = request.query
        data = await reviews.page(who, query.get("chat", ""), query.get("base", ""), query.get("head", ""))
        return web.json_response(data, dumps=_dumps)

    async def acting(request: web.Request) -> tuple[Viewer, dict[str, Any]]:
        """Who acts, and the action's JSON body: same site, JSON only, signed init data."""
        same_site(request)
        if request.content_type != "application/json":
            raise Refusal("The page sends its actions as JSON; reload it.", 415)
        who = viewer(request)
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise Refusal("That request is too large.", 413)
        try:
            body = json.loads(await request.text())
        except ValueError:
            raise Refusal("The page sent an action the bot cannot read; reload it.", 400) from None
        if not isinstance(body, dict):
            raise Refusal("The page sent an action the bot cannot read; reload it.", 400)
        return who, body

    async def action(request: web.Request) -> web.Response:
        who, body = await acting(request)
        return web.json_response(await reviews.act(who, body), dumps=_dumps)

    async def files(request: web.Request) -> web.Response:
        who = viewer(request)
        data = await reviews.files(who, request.query.get("chat", ""), request.query.get("path", ""))
        return web.json_response(data, dumps=_dumps)

    async def pending(request: web.Request) -> web.Response:
        if waiting is None:
            raise web.HTTPNotFound()
        return web.json_response(await waiting.page(viewer(request)), dumps=_dumps)

    async def answer(request: web.Request) -> web.Response:
        if waiting is None:
            raise web.HTTPNotFound()
        who, body = await acting(request)
        return web.json_response(await waiting.answer(who, body), dumps=_dumps)

    async def static(request: web.Request) -> web.Response:
        name = request.match_info.get("name") or "index.html"
        if name not in STATIC:
            raise web.HTTPNotFound()
        body = resources.files("bot.webapp").joinpath("static", name).read_bytes()
        response = web.Response(body=body, headers={"Content-Type": STATIC[name]})
        # The shell is revalidated each time (the service worker keeps a copy for offline use).
        response.headers["Cache-Control"] = "no-cache"
        if name == "sw.js":
            response.headers["Service-Worker-Allowed"] = request.app[ROOT]
        return response

    app = web.Application(middlewares=[headers], client_max_size=MAX_BODY)
    root = urlsplit(public_url).path or "/"
    app[ROOT] = root if root.endswith("/") else root + "/"
    app[API] = app[ROOT] + "api/"
    app.router.add_get("/api/review", page)
    app.router.add_post("/api/action", action)
    app.router.add_get("/api/files", files)
    app.router.add_get("/api/pending", pending)
    app.router.add_post("/api/answer", answer)
    app.router.add_get("/", static)
    app.router.add_get("/{name}", static)
    return app


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _http_sentence(status: int) -> str:
    if status == 404:
        return "There is no such page here."
    if status == 405:
        return "That method is not served here."
    if status == 413:
        return "That request is too large."
    return f"The request was refused (HTTP {status})."
