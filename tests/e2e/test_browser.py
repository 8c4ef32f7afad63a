"""The browser driver itself (tests/e2e/browser.py), on a tiny page served over HTTPS with a self-signed
certificate, as the Mini App is: real clicks and typing reach the server, dialogs are answered by policy,
what a user cannot click cannot be clicked, errors and requests are recorded, screenshots are phone-wide,
and no Chromium process outlives its browser."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from tests.e2e.browser import MISSING, Browser
from tests.e2e.tls import self_signed_cert, server_context
from tests.e2e.webapp_init import launch_url, signed_init_data

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html>
<html><head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
  body { font: 16px sans-serif; margin: 12px; }
  #tall { height: 1600px; background: linear-gradient(#fff, #def); }
  #shield { position: relative; } #shield::after { content: ""; position: absolute; inset: 0; }
  #hidden { display: none; }
</style>
</head><body>
<h1>Review</h1>
<label>Message <input id="message" value="prefilled"></label>
<form id="search"><input id="q" placeholder="Search"></form>
<div id="tall">scroll down</div>
<button id="save">Save</button>
<p id="out"></p>
<div id="shield"><button id="covered">Covered</button></div>
<button id="hidden">Hidden</button>
<script>
  let inputs = 0;
  document.getElementById("message").addEventListener("input", () => { inputs += 1; });
  document.getElementById("search").addEventListener("submit", event => {
    event.preventDefault();
    document.body.dataset.searched = document.getElementById("q").value;
  });
  document.getElementById("save").addEventListener("click", async () => {
    const message = document.getElementById("message").value;
    if (!confirm("Save " + message + "?")) { document.getElementById("out").textContent = "cancelled"; return; }
    const response = await fetch("/save", {method: "POST", body: JSON.stringify({message, inputs})});
    document.getElementById("out").textContent = "saved: " + (await response.json()).saved;
  });
  setTimeout(() => {
    const late = document.createElement("button");
    late.id = "late"; late.textContent = "Late";
    document.body.prepend(late);
  }, 300);
  if (location.search.includes("worker")) {
    navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready)
      .then(() => { document.body.dataset.worker = "ready"; });
  }
  if (location.search.includes("noisy")) {
    console.error("a console error");
    fetch("https://cdn.example.com/lib.js").catch(() => { document.body.dataset.cdn = "failed"; });
    setTimeout(() => { throw new Error("an uncaught one"); }, 0);
  }
</script>
</body></html>"""


# A service worker whose install fetches from a CDN: its requests are the page's too.
WORKER = """self.addEventListener("install", event => {
  event.waitUntil(fetch("https://cdn.example.com/precache.js").catch(() => {}));
  self.skipWaiting();
});"""


@dataclass
class Site:
    url: str
    saved: list[dict[str, object]] = field(default_factory=list)


@pytest.fixture()
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    cert, key = self_signed_cert(tmp_path / "tls")
    app = web.Application()

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def worker(_: web.Request) -> web.Response:
        return web.Response(text=WORKER, content_type="application/javascript")

    app.router.add_get("/", page)
    app.router.add_get("/sw.js", worker)

    async def save(request: web.Request) -> web.Response:
        site.saved.append(json.loads(await request.text()))
        return web.json_response({"saved": site.saved[-1]["message"]})

    app.router.add_post("/save", save)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context(cert, key))
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    site = Site(f"https://127.0.0.1:{port}")
    yield site
    await runner.cleanup()


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _chromium_processes(profile: Path) -> list[int]:
    """Processes whose command line names this browser's profile directory."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if str(profile).encode() in Path(entry.path, "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def test_a_user_fills_confirms_and_saves(site: Site, tmp_path: Path) -> None:
    async with Browser.launch(tmp_path) as browser:
        page = await browser.open(site.url + "/")
        assert await page.evaluate("[innerWidth, devicePixelRatio]") == [390, 2]  # a phone
        await page.fill("#message", "Fix the parser")
        await page.click("button", text="Save")  # far below the fold: scrolled into view first
        assert await page.text("#out", "saved") == "saved: Fix the parser"
        assert site.saved == [{"message": "Fix the parser", "inputs": 1}]  # typed once, over the old value
        assert page.dialog_messages == ["Save Fix the parser?"]

        page.dialogs = "dismiss"
        await page.click("#save")
        await page.wait_for("#out", text="cancelled")
        assert page.dialog_messages == ["Save Fix the parser?", "Save Fix the parser?"]
        assert len(site.saved) == 1

        await page.fill("#message", "")
        assert await page.evaluate("document.getElementById('message').value") == ""
        await page.fill("#q", "parser")
        await page.press("Enter")  # submits the form, as a phone keyboard's Go would
        assert await page.wait_until("document.body.dataset.searched") == "parser"

        await page.wait_for("#late")  # appears 300 ms after load: waited for, not slept on
        assert page.errors == []
        assert page.foreign_requests(site.url) == []
        assert page.requests == [site.url + "/", site.url + "/save"]


async def test_what_a_user_cannot_click_cannot_be_clicked(site: Site, tmp_path: Path) -> None:
    async with Browser.launch(tmp_path) as browser:
        page = await browser.open(site.url + "/")
        with pytest.raises(AssertionError, match=r"cannot click '#covered': covered by <div id=\"shield\""):
            await page.click("#covered")
        with pytest.raises(TimeoutError, match="a visible '#hidden' not true within 1s"):
            await page.click("#hidden", timeout=1)
        with pytest.raises(TimeoutError, match="Review"):  # the failure shows what the page says
            await page.wait_for("button", text="Publish", timeout=1)


async def test_errors_and_foreign_requests_are_recorded(site: Site, tmp_path: Path) -> None:
    async with Browser.launch(tmp_path) as browser:
        page = await browser.open(site.url + "/?noisy")
        await page.wait_until("document.body.dataset.cdn === 'failed'")
        await page.wait_for("#late")  # 300 ms on: the uncaught error of a 0 ms timer came before it
        assert page.foreign_requests(site.url) == ["https://cdn.example.com/lib.js"]
        assert "console: a console error" in page.errors
        assert any(e.startswith("uncaught: Error: an uncaught one") for e in page.errors), page.errors
        # Offline: a CDN's name does not resolve, so nothing was fetched from outside.
        assert any("ERR_NAME_NOT_RESOLVED https://cdn.example.com/lib.js" in e for e in page.errors), page.errors


async def test_a_service_workers_requests_are_the_pages(site: Site, tmp_path: Path) -> None:
    async with Browser.launch(tmp_path) as browser:
        page = await browser.open(site.url + "/?worker")
        await page.wait_until("document.body.dataset.worker === 'ready'")
        assert page.foreign_requests(site.url) == ["https://cdn.example.com/precache.js"]


async def test_a_launch_url_reaches_the_page_and_the_screenshot_is_phone_wide(site: Site, tmp_path: Path) -> None:
    init_data = signed_init_data("123456:TEST-TOKEN", 1001)
    async with Browser.launch(tmp_path) as browser:
        page = await browser.open(launch_url(site.url + "/", init_data))
        hash_params = await page.evaluate("Object.fromEntries(new URLSearchParams(location.hash.slice(1)))")
        assert hash_params["tgWebAppData"] == init_data  # what telegram-web-app.js reads as initData
        assert hash_params["tgWebAppPlatform"] == "android"
        await page.evaluate("window.launched = 1")
        other = signed_init_data("123456:TEST-TOKEN", 1002)
        await page.goto(launch_url(site.url + "/", other))  # only the fragment differs: still a new launch
        assert await page.evaluate("[window.launched, new URLSearchParams(location.hash.slice(1)).get('tgWebAppData')]") == [
            None, other]
        shot = await page.screenshot(tmp_path / "page.png")
        tall = await page.screenshot(tmp_path / "tall.png", tall=True)
        assert await page.evaluate("innerHeight") == 844  # the screen put back
    width, height = _png_size(shot.read_bytes())
    assert width == 390 * 2  # phone width at device scale 2
    assert height > 844 * 2  # the whole page, not only the viewport
    tall_width, tall_height = _png_size(tall.read_bytes())  # tall: the page laid out on one long screen
    assert tall_width == 390 * 2 and tall_height > 844 * 2


async def test_no_chromium_outlives_its_browser(site: Site, tmp_path: Path) -> None:
    async with Browser.launch(tmp_path) as browser, Browser.launch(tmp_path) as second:
        assert browser.profile != second.profile  # two phones at once are two browsers
        first = await browser.open(site.url + "/")
        other = await second.open(site.url + "/")
        await first.fill("#message", "one")
        assert await other.evaluate("document.getElementById('message').value") == "prefilled"
        assert len(_chromium_processes(browser.profile)) >= 2  # the browser and at least one renderer
        assert len(_chromium_processes(second.profile)) >= 2
    assert _chromium_processes(browser.profile) == [] and _chromium_processes(second.profile) == []


async def test_without_chromium_the_failure_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on it
    with pytest.raises(pytest.fail.Exception, match=r"^install Debian's chromium \(apt-get install -y chromium\)"):
        async with Browser.launch(tmp_path):
            pass
    assert MISSING == "install Debian's chromium (apt-get install -y chromium) to run the browser tests"
