"""bot/webapp/server.py over HTTP: init data on every API request, no cross-site action, no replay, safe headers."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.telegram.webapp import init_data_check, mount
from bot.webapp.server import build_app
from tests.e2e.webapp_init import forged_init_data, signed_init_data
from tests.unit.webapp.test_auth import TOKEN
from tests.unit.webapp.reviewed import reviewed

URL = "https://review.example/review/"
ORIGIN = "https://review.example"


async def _client(tmp_path: Path) -> tuple[TestClient, dict]:
    _, _, reviews, outbox, change = await reviewed(tmp_path)
    root = web.Application()
    mount(root, build_app(reviews, init_data_check(TOKEN), [42], public_url=URL))
    client = TestClient(TestServer(root))
    await client.start_server()
    return client, {"outbox": outbox, "change": change}


def _auth(user_id: int = 42) -> dict[str, str]:
    return {"Authorization": "tma " + signed_init_data(TOKEN, user_id)}


async def test_the_page_loads_without_init_data_but_shows_nothing_private(tmp_path: Path) -> None:
    client, _ = await _client(tmp_path)
    async with client:
        page = await client.get("/review/")
        assert page.status == 200 and "text/html" in page.headers["Content-Type"]
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Referrer-Policy"] == "no-referrer"
        body = await page.text()
        assert "a.py" not in body and "<script src=\"app.js\"" in body
        assert (await client.get("/review/app.js")).status == 200
        missing = await client.get("/review/../../etc/passwd")
        assert missing.status == 404
        refused = await client.get("/review/api/review?chat=42")
        assert refused.status == 401 and (await refused.json()) == {
            "error": "This page only works when opened from the bot's button in Telegram."
        }
        assert refused.headers["Cache-Control"] == "no-store"


async def test_api_answers_signed_requests_and_refuses_forged_other_users_and_other_chats(tmp_path: Path) -> None:
    client, _ = await _client(tmp_path)
    async with client:
        good = await client.get("/review/api/review?chat=42", headers=_auth())
        assert good.status == 200 and [f["path"] for f in (await good.json())["uncommitted"]["files"]] == ["a.py", "gone.txt", "new.txt"]
        forged = await client.get("/review/api/review?chat=42", headers={"Authorization": "tma " + forged_init_data(TOKEN, 42)})
        assert forged.status == 401
        assert (await client.get("/review/api/review?chat=42", headers=_auth(7))).status == 403
        other_chat = await client.get("/review/api/review?chat=-100777", headers=_auth())
        assert other_chat.status == 403 and "not one you may see" in (await other_chat.json())["error"]


async def test_actions_need_json_the_same_origin_and_an_unspent_token(tmp_path: Path) -> None:
    client, state = await _client(tmp_path)
    async with client:
        page = await (await client.get("/review/api/review?chat=42", headers=_auth())).json()
        new = next(f for f in page["uncommitted"]["files"] if f["path"] == "new.txt")
        body = {"chat": "42", "token": page["token"], "view": "uncommitted", "action": "revert-file", "file": "new.txt", "id": new["id"]}
        form = await client.post("/review/api/action", data=json.dumps(body), headers={**_auth(), "Content-Type": "text/plain"})
        assert form.status == 415  # a cross-site form can only send text/plain or form bodies
        for cross in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
            refused = await client.post("/review/api/action", json=body, headers={**_auth(), **cross})
            assert refused.status == 403 and (await refused.json())["error"] == "Another site cannot act on this bot's changes."
        preflight = await client.options("/review/api/action", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in preflight.headers
        unsigned = await client.post("/review/api/action", json=body, headers={"Origin": ORIGIN})
        assert unsigned.status == 401
        assert state["outbox"].sent == []
        done = await client.post("/review/api/action", json=body, headers={**_auth(), "Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"})
        assert done.status == 200 and (await done.json())["line"].startswith("↩️ Reverted new.txt")
        replay = await client.post("/review/api/action", json=body, headers={**_auth(), "Origin": ORIGIN})
        assert replay.status == 409 and "already used" in (await replay.json())["error"]
        assert len(state["outbox"].sent) == 1
