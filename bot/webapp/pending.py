"""One page with everything waiting for the user's answer across their chats: Claude's permission requests,
questions and plans (bot/claude/approvals.py), answered there as from the chat's own buttons.

Only requests of chats the user may see are listed (the review page's rule, Reviews.chat); an answer spends
the page's one-time token and goes through Approvals.press / reply, so the chat's request message shows
the decision exactly as if its button had been pressed, and no later press can change it.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from bot.claude.requests import ApprovalRequest
from bot.claude.tool_summary import describe_tool
from bot.errors import Refused
from bot.sessions.keys import ChatKey
from bot.webapp.auth import Refusal, Viewer
from bot.webapp.review import Reviews

SCOPE = "pending"  # what a token of this page is bound to, beside its user
MAX_INPUT = 100_000  # characters of a request's input shown (the chat attaches a longer one as a file)
GONE = "That request was already answered or has expired; the page reloads."
ACTIONS = {"tool": {"once", "always", "deny"}, "plan": {"approve", "keep"}, "question": {"pick", "done", "dismiss"}}
SETTLED = {"Done.", "Next question."}


class Requests(Protocol):
    def all_pending(self) -> list[ApprovalRequest]: ...

    def press(self, *, token: str, action: str, choice: int, user_id: int | None, key: ChatKey, message_id: int) -> str: ...

    def reply(self, *, key: ChatKey, message_id: int, user_id: int | None, text: str) -> None: ...


class Waiting:
    def __init__(self, requests: Requests, reviews: Reviews) -> None:
        self.requests = requests
        self.reviews = reviews
        self.tokens = reviews.tokens

    async def _visible(self, viewer: Viewer) -> list[tuple[ApprovalRequest, str]]:
        found = []
        for request in self.requests.all_pending():
            if request.message_id is None or request.future.done():
                continue
            try:
                _, session = await self.reviews.chat(viewer, str(request.key))
            except Refusal:
                continue
            found.append((request, session.record.title or str(request.key)))
        return found

    async def page(self, viewer: Viewer) -> dict[str, Any]:
        return {
            "requests": [_request_json(request, title) for request, title in await self._visible(viewer)],
            "token": self.tokens.issue(viewer.user_id, SCOPE),
        }

    async def answer(self, viewer: Viewer, body: dict[str, Any]) -> dict[str, Any]:
        if not self.tokens.spend(str(body.get("token", "")), viewer.user_id, SCOPE):
            raise Refusal("This page's answer was already sent or has expired; the page reloads, then try again.", 409)
        request = next((r for r, _ in await self._visible(viewer) if r.token == body.get("request")), None)
        if request is None or request.message_id is None:
            raise Refusal(GONE, 409)
        action = str(body.get("action", ""))
        if action == "reply":
            text = str(body.get("text", "")).strip()
            if not text:
                raise Refusal("Write the answer first.", 400)
            try:
                self.requests.reply(key=request.key, message_id=request.message_id, user_id=viewer.user_id, text=text)
            except Refused as exc:
                raise Refusal(str(exc), 409) from None
            return {"line": "Done."}
        if action not in ACTIONS[request.kind]:
            raise Refusal("The page asked for an answer this request does not take; reload it.", 400)
        choice = body.get("choice", -1)
        notice = self.requests.press(
            token=request.token, action=action, choice=choice if isinstance(choice, int) else -1,
            user_id=viewer.user_id, key=request.key, message_id=request.message_id,
        )
        if notice not in SETTLED and not notice.endswith(" picked.") and notice != "Pick at least one option first.":
            raise Refusal(notice, 409)
        return {"line": notice}


def _request_json(request: ApprovalRequest, title: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": request.token, "chat": {"key": str(request.key), "title": title}, "kind": request.kind,
        "about": request.about if request.kind != "tool" else describe_tool(request.tool_name, request.tool_input),
        "tool": request.tool_name, "title": request.title or "", "always": request.offers_remember,
    }
    if request.kind == "plan":
        out["plan"] = str(request.tool_input.get("plan", ""))[:MAX_INPUT]
    elif request.kind == "question":
        question = request.question
        out["question"] = {
            "text": str(question.get("question", "")), "options": request.labels, "multi": bool(question.get("multiSelect")),
            "number": len(request.answers) + 1, "count": len(request.questions), "picked": list(request.picked),
        }
    else:
        shown = json.dumps(request.tool_input, ensure_ascii=False, indent=2)
        out["input"] = shown if len(shown) <= MAX_INPUT else shown[:MAX_INPUT] + "\n… (cut here; the chat has it whole)"
    return out
