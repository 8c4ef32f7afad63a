"""A small driver for headless Debian Chromium over the Chrome DevTools Protocol (aiohttp's websocket).

A phone by default (390x844 CSS pixels, device scale 2, mobile viewport), as Telegram opens a Mini App.
What a test does goes through what a user could do: clicks are mouse events at an element's centre after
it is scrolled into view (a covered or hidden element cannot be clicked), typing is Input.insertText into
the focused field. The page's dialogs are answered by a policy and recorded; console errors, uncaught
exceptions and every request URL are recorded, so a test can say the page fetched nothing but its own origin.

    async with Browser.launch(tmp_path) as browser:
        page = await browser.open(url)
        await page.click("button", text="Commit")
        await page.wait_for(".done", text="committed")
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.e2e.orphans import die_with_parent

MISSING = "install Debian's chromium (apt-get install -y chromium) to run the browser tests"
START_TIMEOUT = 60.0  # a cold Chromium start under parallel test load
COMMAND_TIMEOUT = 60.0  # one DevTools command (a navigation waits for its page to load)
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}



class CdpError(Exception):
    """A DevTools command failed, or the browser went away."""


class _Connection:
    """One websocket to the browser; pages are flattened sessions on it (sessionId on each message)."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse, log: Callable[[], str]) -> None:
        self._http = http
        self._ws = ws
        self._log = log
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: dict[tuple[str | None, str], list[Callable[[dict[str, Any]], None]]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, log: Callable[[], str]) -> _Connection:
        http = aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(url, max_msg_size=0)  # screenshots are large messages
        except BaseException:
            await http.close()
            raise
        return cls(http, ws, log)

    def on(self, session: str | None, method: str, callback: Callable[[dict[str, Any]], None]) -> None:
        self._listeners.setdefault((session, method), []).append(callback)

    async def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> dict[str, Any]:
        """Send a command and wait for its answer."""
        return await self.answer(await self.post(method, params, session=session), method, timeout)

    async def post(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
    ) -> asyncio.Future[dict[str, Any]]:
        """Send a command now; its answer is the future (commands to one target run in the order sent)."""
        if self._reader.done():
            raise CdpError(f"{method}: the browser went away\n{self._log()}")
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        future.add_done_callback(lambda _: self._pending.pop(message["id"], None))
        await self._ws.send_str(json.dumps(message))
        return future

    @staticmethod
    async def answer(future: asyncio.Future[dict[str, Any]], method: str, timeout: float) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"{method}: no answer from the browser within {timeout:g}s") from None

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                if "id" in message:
                    future = self._pending.get(message["id"])
                    if future is None or future.done():
                        continue
                    if "error" in message:
                        future.set_exception(CdpError(message["error"].get("message", str(message["error"]))))
                    else:
                        future.set_result(message.get("result", {}))
                    continue
                for callback in self._listeners.get((message.get("sessionId"), message.get("method", "")), []):
                    callback(message.get("params", {}))
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(CdpError(f"the browser went away\n{self._log()}"))

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        await self._ws.close()
        await self._http.close()


@dataclass
class Page:
    """One tab. Every wait polls in the page until its condition holds (never a bare sleep)."""

    _cdp: _Connection
    _session: str
    dialogs: Literal["accept", "dismiss"] = "accept"  # how alert/confirm/prompt are answered
    dialog_messages: list[str] = field(default_factory=list)  # every dialog's text, in order
    errors: list[str] = field(default_factory=list)  # console.error, uncaught exceptions, failed loads, CSP
    # Every URL the page (and its workers) requested, in order; Chromium asks for /favicon.ico unless the
    # page names an icon (a 404 there is in `errors`).
    requests: list[str] = field(default_factory=list)
    viewport: dict[str, Any] = field(default_factory=lambda: dict(PHONE))  # as Browser.open set it
    _loaded: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def _start(self) -> None:
        self._cdp.on(self._session, "Page.loadEventFired", lambda _: self._loaded.set())
        self._cdp.on(self._session, "Page.javascriptDialogOpening", self._dialog)
        await self._send("Page.enable")
        self._watch(self._session)
        for answer in await self._enable(self._session):
            await self._cdp.answer(answer, "enable", COMMAND_TIMEOUT)

    def _watch(self, session: str) -> None:
        """Record a session's requests and errors: the page's, and its workers' and iframes' (a service
        worker's precache is a request of the page's too), each paused at its start until watched."""
        on = self._cdp.on
        on(session, "Network.requestWillBeSent", lambda p: self.requests.append(p["request"]["url"]))
        on(session, "Network.webSocketCreated", lambda p: self.requests.append(p["url"]))
        on(session, "Runtime.consoleAPICalled", self._console)
        on(session, "Runtime.exceptionThrown", self._exception)
        on(session, "Log.entryAdded", self._log_entry)
        on(session, "Target.attachedToTarget", lambda p: self._spawn(self._watch_child(p["sessionId"])))

    async def _enable(self, session: str) -> list[asyncio.Future[dict[str, Any]]]:
        return [await self._cdp.post(method, params, session=session) for method, params in (
            ("Network.enable", {}), ("Runtime.enable", {}), ("Log.enable", {}),
            ("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True}),
        )]

    async def _watch_child(self, session: str) -> None:
        # A paused service worker answers Network.enable only once it runs: enable, then resume, then
        # collect the answers (a kind of target without some domain refuses it: that is no failure).
        self._watch(session)
        answers = await self._enable(session)
        answers.append(await self._cdp.post("Runtime.runIfWaitingForDebugger", session=session))
        await asyncio.gather(*(self._cdp.answer(a, "enable", COMMAND_TIMEOUT) for a in answers), return_exceptions=True)

    def _spawn(self, work: Any) -> None:
        # Event handlers run in the reader: what they must send goes to a task, so the reader stays free.
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _dialog(self, params: dict[str, Any]) -> None:
        self.dialog_messages.append(params.get("message", ""))
        self._spawn(self._send("Page.handleJavaScriptDialog", {"accept": self.dialogs == "accept"}))

    def _console(self, params: dict[str, Any]) -> None:
        if params.get("type") in ("error", "assert"):
            words = [str(a.get("value", a.get("description", a.get("type", "")))) for a in params.get("args", [])]
            self.errors.append("console: " + " ".join(words))

    def _exception(self, params: dict[str, Any]) -> None:
        details = params.get("exceptionDetails", {})
        described = details.get("exception", {}).get("description") or details.get("text", "")
        self.errors.append(f"uncaught: {described} ({details.get('url', '')}:{details.get('lineNumber', '?')})")

    def _log_entry(self, params: dict[str, Any]) -> None:
        entry = params.get("entry", {})
        if entry.get("level") == "error":
            self.errors.append(f"{entry.get('source', 'log')}: {entry.get('text', '')} {entry.get('url', '')}".strip())

    async def _send(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return await self._cdp.send(method, params, session=self._session, **kw)

    async def goto(self, url: str, *, timeout: float = COMMAND_TIMEOUT) -> None:
        """Load `url` afresh and wait for its load event. A URL that differs from the page's only in its
        fragment is reloaded too: each launch of a Mini App is a new page, not a hashchange."""
        self._loaded.clear()
        result = await self._send("Page.navigate", {"url": url}, timeout=timeout)
        if "loaderId" not in result and not result.get("errorText"):  # a same-document navigation: no load
            await self.goto("about:blank", timeout=timeout)
            self._loaded.clear()
            result = await self._send("Page.navigate", {"url": url}, timeout=timeout)
        if result.get("errorText"):
            raise CdpError(f"could not open {url}: {result['errorText']}")
        try:
            await asyncio.wait_for(self._loaded.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"{url} did not finish loading within {timeout:g}s") from None

    async def evaluate(self, js: str, *, timeout: float = COMMAND_TIMEOUT) -> Any:
        """The value of a JavaScript expression (a promise is awaited), as JSON; a thrown error raises."""
        result = await self._send(
            "Runtime.evaluate", {"expression": js, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CdpError(details.get("exception", {}).get("description") or details.get("text", "error"))
        return result.get("result", {}).get("value")

    async def wait_until(self, js: str, *, timeout: float = 30.0, what: str | None = None) -> Any:
        """The first truthy value of a JavaScript expression, re-evaluated in the page every 50 ms."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            script = f"""(async () => {{
                const deadline = Date.now() + {max(deadline - loop.time(), 0) * 1000:.0f};
                for (;;) {{
                    const value = await (async () => ({js}))();
                    if (value) return {{value}};
                    if (Date.now() > deadline) return null;
                    await new Promise(resolve => setTimeout(resolve, 50));
                }}
            }})()"""
            try:
                found = await self.evaluate(script, timeout=timeout + 10)
            except CdpError as exc:  # a navigation destroyed the context the poll ran in: poll the new page
                if "context" not in str(exc).lower() or loop.time() > deadline:
                    raise
                continue
            if found:
                return found["value"]
            raise TimeoutError(f"{what or js} not true within {timeout:g}s\n{await self._describe()}")

    async def wait_for(self, css: str, text: str | None = None, *, timeout: float = 30.0) -> None:
        """Wait until an element matching `css` (whose text contains `text`) is visible."""
        await self.wait_until(f"{_FIND}({json.dumps(css)}, {json.dumps(text)})", timeout=timeout,
                              what=f"a visible {css!r}" + (f" with text {text!r}" if text else ""))

    async def text(self, css: str, text: str | None = None, *, timeout: float = 30.0) -> str:
        """The visible text (innerText) of the first visible element matching `css` (and `text`)."""
        await self.wait_for(css, text, timeout=timeout)
        return await self.evaluate(f"{_FIND}({json.dumps(css)}, {json.dumps(text)}).innerText")

    async def click(self, css: str, text: str | None = None, *, timeout: float = 30.0) -> None:
        """Press and release the left mouse button at the element's centre, as a finger would: the element
        is scrolled into view first, and if something else is on top of it there, the click is refused."""
        await self.wait_for(css, text, timeout=timeout)
        point = await self.evaluate(f"""(async () => {{
            const el = {_FIND}({json.dumps(css)}, {json.dumps(text)});
            if (!el) return {{error: "gone"}};
            el.scrollIntoView({{block: "center", inline: "center", behavior: "instant"}});
            // Where a finger would land once it stops moving (a sheet sliding in, a list still laying out).
            let r = el.getBoundingClientRect();
            for (let i = 0; i < 40; i++) {{
                await new Promise(resolve => setTimeout(resolve, 25));
                const now = el.getBoundingClientRect();
                if (now.x === r.x && now.y === r.y && now.width === r.width && now.height === r.height) break;
                r = now;
            }}
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const top = document.elementFromPoint(x, y);
            if (!top || !(el === top || el.contains(top))) {{
                return {{error: "covered by " + (top ? top.outerHTML.slice(0, 120) : "nothing (off screen)")}};
            }}
            // Input events are in the visual viewport's pixels (a pinch-zoomed or unscaled page differs).
            const v = window.visualViewport;
            return v ? {{x: (x - v.offsetLeft) * v.scale, y: (y - v.offsetTop) * v.scale}} : {{x, y}};
        }})()""")
        if "error" in point:
            raise AssertionError(f"cannot click {css!r}" + (f" ({text!r})" if text else "") + f": {point['error']}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self._send("Input.dispatchMouseEvent", {
                "type": kind, "x": point["x"], "y": point["y"], "button": "left" if kind != "mouseMoved" else "none",
                "buttons": 1 if kind == "mousePressed" else 0, "clickCount": 1 if kind != "mouseMoved" else 0,
                "pointerType": "mouse",
            })

    async def fill(self, css: str, value: str, *, timeout: float = 30.0) -> None:
        """Focus a field, select what it holds, and type `value` over it (Input.insertText: input events)."""
        await self.wait_for(css, timeout=timeout)
        await self.evaluate(f"""(() => {{
            const el = {_FIND}({json.dumps(css)}, null);
            el.scrollIntoView({{block: "center", behavior: "instant"}});
            el.focus();
            if (typeof el.select === "function") el.select();
            else document.execCommand("selectAll");
        }})()""")
        if value:
            await self._send("Input.insertText", {"text": value})
        else:
            await self.press("Backspace")  # the selection goes, as a user's key would take it

    async def press(self, key: Literal["Enter", "Escape", "Tab", "Backspace"]) -> None:
        """Press and release a key on the focused element (Enter submits a form, as a keyboard's would)."""
        code, text = _KEYS[key]
        down: dict[str, Any] = {"type": "keyDown", "key": key, "code": key, "windowsVirtualKeyCode": code}
        if text:
            down["text"] = text
        await self._send("Input.dispatchKeyEvent", down)
        await self._send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": key,
                                                    "windowsVirtualKeyCode": code})

    async def offline(self, offline: bool = True) -> None:
        """Cut the page off the network (a phone in a tunnel), or give it back; a service worker still answers."""
        await self._send("Network.emulateNetworkConditions", {
            "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
        })

    async def screenshot(self, path: Path, *, tall: bool = False) -> Path:
        """The whole page (not only the viewport; at least the screen) as a PNG, at the device's scale.
        A page wider than the phone comes out wider: a layout that overflows shows. `tall`: the viewport
        is made as tall as the page first (then put back), so fixed and sticky bars sit at the page's end,
        not in its middle."""
        metrics = await self._send("Page.getLayoutMetrics")
        size, screen = metrics["cssContentSize"], metrics["cssLayoutViewport"]
        if tall:
            height = int(max(size["height"], self.viewport["height"]))
            await self._send("Emulation.setDeviceMetricsOverride", {**self.viewport, "height": height})
            try:
                return await self.screenshot(path)
            finally:
                await self._send("Emulation.setDeviceMetricsOverride", self.viewport)
        shot = await self._send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": max(size["width"], screen["clientWidth"]),
                     "height": max(size["height"], screen["clientHeight"]), "scale": 1},
        })
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def foreign_requests(self, origin: str) -> list[str]:
        """Requests to anywhere but `origin` (scheme://host:port); data:, blob: and about: are the page's own."""
        wanted = _origin(origin)
        return [u for u in self.requests if not u.startswith(("data:", "blob:", "about:")) and _origin(u) != wanted]

    async def _describe(self) -> str:
        try:
            body = await self.evaluate("document.body ? document.body.innerText : '(no body)'", timeout=5)
            location = await self.evaluate("location.href", timeout=5)
        except Exception as exc:  # noqa: BLE001 - a description for a failure message, whatever the page's state
            body, location = f"(unreadable: {exc})", "?"
        text = str(body)
        text = text if len(text) <= 1500 else text[:1500] + "…"
        lines = [f"page {location}:", text]
        if self.errors:
            lines.append(f"page errors: {self.errors}")
        if self.dialog_messages:
            lines.append(f"dialogs: {self.dialog_messages}")
        return "\n".join(lines)


_KEYS = {"Enter": (13, "\r"), "Escape": (27, ""), "Tab": (9, ""), "Backspace": (8, "")}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80, "wss": 443, "ws": 80}.get(parts.scheme, 0)
    return f"{parts.scheme}://{parts.hostname}:{port}"


# The first element matching css (and containing text) that a user can see: laid out, not hidden.
_FIND = """((css, text) => [...document.querySelectorAll(css)].find(el => {
    if (text !== null && !(el.innerText || el.value || "").includes(text)) return false;
    const style = getComputedStyle(el);
    return el.getClientRects().length > 0 && style.visibility !== "hidden" && style.display !== "none";
}) || null)"""


@dataclass
class Browser:
    """A Chromium process and its DevTools connection; `launch` is the way to get one."""

    process: asyncio.subprocess.Process
    _cdp: _Connection
    profile: Path  # its user data directory (Chromium's own output is beside it, profile + ".log")
    viewport: dict[str, Any]

    @classmethod
    @contextlib.asynccontextmanager
    async def launch(cls, tmp_path: Path, *, viewport: dict[str, Any] | None = None) -> AsyncIterator[Browser]:
        """Start Chromium with its own profile in tmp_path; on exit, close it and its whole process group."""
        executable = shutil.which("chromium")
        if executable is None:
            pytest.fail(MISSING, pytrace=False)
        tmp_path.mkdir(parents=True, exist_ok=True)
        # A profile of its own: two browsers on one profile would be one (Chromium hands over to the first).
        profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))
        log_path = profile.with_suffix(".log")
        args = [
            executable, "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage",  # containers give /dev/shm 64 MB
            "--remote-debugging-port=0", f"--user-data-dir={profile}",
            "--ignore-certificate-errors",  # the tests' Mini App is https with a self-signed certificate
            "--no-proxy-server",  # a proxy in the environment must not see (or break) the tests' traffic
            # Offline: no name resolves, so a page that reaches for a CDN fails (and is recorded), never fetches.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            *(["--no-sandbox"] if os.geteuid() == 0 else []),  # Chromium refuses its sandbox as root
            "about:blank",
        ]
        process = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, preexec_fn=die_with_parent,  # the wrapper /usr/bin/chromium execs the browser, which keeps it
        )
        browser: Browser | None = None
        drain: asyncio.Task[None] | None = None
        try:
            found: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            drain = asyncio.create_task(_drain(process, log_path, found))
            try:
                ws_url = await asyncio.wait_for(found, START_TIMEOUT)
            except TimeoutError:
                raise TimeoutError(f"chromium did not start within {START_TIMEOUT:g}s\n{_tail(log_path)}") from None
            cdp = await _Connection.open(ws_url, lambda: _tail(log_path))
            browser = cls(process, cdp, profile, viewport or PHONE)
            yield browser
        finally:
            if browser is not None:
                await browser._close()
            _kill_group(process)
            await process.wait()
            if drain is not None:
                await drain

    async def open(self, url: str, *, timeout: float = COMMAND_TIMEOUT) -> Page:
        """A new tab with the phone's viewport, showing `url` once it has loaded."""
        target = await self._cdp.send("Target.createTarget", {"url": "about:blank"})
        attached = await self._cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        page = Page(self._cdp, attached["sessionId"], viewport=self.viewport)
        await page._start()
        await page._send("Emulation.setDeviceMetricsOverride", self.viewport)
        if self.viewport.get("mobile"):
            await page._send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        await page.goto(url, timeout=timeout)
        return page

    async def _close(self) -> None:
        with contextlib.suppress(Exception):
            await self._cdp.send("Browser.close", timeout=5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), 5)
        await self._cdp.close()


_DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")


async def _drain(process: asyncio.subprocess.Process, log_path: Path, found: asyncio.Future[str]) -> None:
    """Chromium's stderr into a file (a full pipe would stall it); the DevTools address when it appears."""
    assert process.stderr is not None
    with open(log_path, "ab") as log:
        async for line in process.stderr:
            log.write(line)
            log.flush()
            if not found.done() and (m := _DEVTOOLS.search(line.decode(errors="replace"))):
                found.set_result(m.group(1))
    if not found.done():
        found.set_exception(RuntimeError(f"chromium exited with {await process.wait()}\n{_tail(log_path)}"))


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL Chromium's whole process group (renderers, zygote, GPU process), its own session."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no chromium output)"
    # D-Bus complaints fill the log in a container without a bus; they say nothing about a failure.
    kept = [line for line in text.splitlines() if "dbus" not in line and "DBus" not in line]
    return "chromium's output:\n" + "\n".join(kept[-lines:])
