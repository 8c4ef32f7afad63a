"""bot/webapp/pending.py with the real Approvals: only the requests of chats the user may see, answered once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny

from bot.sessions.keys import ChatKey
from bot.sessions.session import Turn
from bot.webapp.auth import Refusal, Viewer
from bot.webapp.pending import Waiting
from tests.unit.claude.test_approvals import RUNNING, FakeOutboxes, approvals_for, shown
from tests.unit.webapp.reviewed import Outbox, Sessions, session_of
from bot.webapp.review import Reviews

OWNER = 1  # tests/unit/claude/test_approvals.py's allowed user


async def test_the_page_lists_what_waits_in_the_users_chats_and_answers_it_once(tmp_path: Path) -> None:
    outboxes = FakeOutboxes()
    approvals = approvals_for(outboxes)
    mine = session_of(tmp_path, "-100", tmp_path, [OWNER])
    theirs = session_of(tmp_path, "-200", tmp_path, [7])
    RUNNING.clear()
    RUNNING[mine.name] = Turn(key=ChatKey(-100), prompt="hi")
    RUNNING[theirs.name] = Turn(key=ChatKey(-200), prompt="hi")
    reviews = Reviews(sessions=Sessions(mine, theirs), members=lambda name: [], allowed_chats=[], busy=lambda s: False, outbox=Outbox())
    waiting = Waiting(approvals, reviews)
    task, token, _ = await shown(approvals, outboxes, mine, "Bash", {"command": "touch mine"})
    outboxes.sent.clear()
    other, _, _ = await shown(approvals, outboxes, theirs, "Bash", {"command": "touch theirs"})
    viewer = Viewer(OWNER, "Ann", time.time())

    page = await waiting.page(viewer)
    [request] = page["requests"]
    assert (request["id"], request["chat"]["key"], request["about"]) == (token, "-100", "Bash: touch mine")
    assert request["input"] == '{\n  "command": "touch mine"\n}' and request["kind"] == "tool"
    with pytest.raises(Refusal, match="does not take"):
        await waiting.answer(viewer, {"token": page["token"], "request": token, "action": "approve"})
    with pytest.raises(Refusal, match="already sent"):  # that token is spent
        await waiting.answer(viewer, {"token": page["token"], "request": token, "action": "once"})
    page = await waiting.page(viewer)
    hidden = [r for r in approvals.all_pending() if r.session is theirs][0]
    with pytest.raises(Refusal, match="already answered or has expired"):  # another person's chat is not listed
        await waiting.answer(viewer, {"token": page["token"], "request": hidden.token, "action": "once"})
    page = await waiting.page(viewer)
    assert await waiting.answer(viewer, {"token": page["token"], "request": token, "action": "once"}) == {"line": "Done."}
    assert isinstance(await task, PermissionResultAllow)
    assert (await waiting.page(viewer))["requests"] == []
    assert not other.done()
    # Its own user's reply (a reason to deny) goes through Approvals.reply like a reply in the chat.
    bob = Viewer(7, "Bob", time.time())
    approvals.allowed_users = frozenset({OWNER, 7})
    page = await waiting.page(bob)
    await waiting.answer(bob, {"token": page["token"], "request": hidden.token, "action": "reply", "text": "not today"})
    result = await other
    assert isinstance(result, PermissionResultDeny) and result.message == "The user denied this: not today"
