"""Claude's permission requests, questions and plans, answered from the chat.

Every Claude Code process gets a ``can_use_tool`` callback bound to its session. A request is
shown in the chat of the session's current turn (linked chats share one session, so that is
the chat that asked) and waits for a button, a text reply to it, the turn being stopped, or
the timeout, whichever comes first; whatever decided it, the chat view (a RequestsView, see
bot/chat.py) then shows the Resolution without choices, and no later press or reply can change
the answer. This module decides; it never formats or builds buttons.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from bot.claude.permissions import covers, exact_rule, remembered
from bot.claude.requests import ApprovalRequest, Resolution
from bot.claude.request_input import full_input, input_fits
from bot.claude.tool_summary import describe_tool
from bot.errors import Refused
from bot.util import oplog
from bot.util.text import esc
from bot.sessions.keys import ChatKey
from bot.sessions.session import ClaudeSession, Turn

if TYPE_CHECKING:
    from claude_agent_sdk import CanUseTool, PermissionResult, ToolPermissionContext

    from bot.chat import RequestsView

log = logging.getLogger(__name__)

OWN_TOOLS = "mcp__bot__"
# The bot's own tools that only read what the chat may see anyway; send_file asks like any tool.
AUTO_APPROVED = frozenset({OWN_TOOLS + "session_context"})
EXPIRED = "This request was already answered or has expired."
NOT_ALLOWED = "Only the bot's users can answer Claude's requests."


class RequestClosed(Refused):
    """A reply to a request that is no longer open, or from someone who may not answer it."""


def _allow(**fields: Any) -> PermissionResult:
    from claude_agent_sdk import PermissionResultAllow  # loaded by the time Claude Code asks

    return PermissionResultAllow(**fields)


def _deny(message: str) -> PermissionResult:
    from claude_agent_sdk import PermissionResultDeny

    return PermissionResultDeny(message=message)


class Approvals:
    def __init__(
        self,
        view: RequestsView,
        *,
        current_turn: Callable[[ClaudeSession], Turn | None],
        timeout: float,
        allowed_users: Iterable[int],
        default_mode: str,
        waiting: Callable[[ClaudeSession, str | None], None] = lambda session, what: None,
    ) -> None:
        self.view = view
        self.waiting = waiting  # the scheduler's: the running turn's progress says it waits for an answer
        self.current_turn = current_turn  # the scheduler's: whose chat a request is shown in
        self.timeout = timeout
        self.allowed_users = frozenset(allowed_users)
        self.default_mode = default_mode
        self._pending: dict[str, ApprovalRequest] = {}

    def callback_for(self, session: ClaudeSession) -> CanUseTool:
        from claude_agent_sdk import CanUseToolShadowedWarning

        # The bot always passes can_use_tool (AskUserQuestion reaches it in every mode), so the SDK's
        # warning that bypassPermissions or allowed_tools make it unused for other tools is expected.
        warnings.filterwarnings("ignore", category=CanUseToolShadowedWarning)

        async def can_use_tool(tool_name: str, tool_input: dict[str, Any], context: ToolPermissionContext) -> PermissionResult:
            return await self.ask(session, tool_name, tool_input, context)

        return can_use_tool

    def all_pending(self) -> list[ApprovalRequest]:
        """Every request waiting for an answer (the review Mini App's page of them, bot/webapp/pending.py)."""
        return list(self._pending.values())

    def pending_for(self, session: ClaudeSession) -> list[ApprovalRequest]:
        return [r for r in self._pending.values() if r.session is session]

    def waiting_lines(self, session: ClaudeSession) -> list[str]:
        """For /status: the requests of this session still waiting for an answer."""
        return [f"Waiting for your answer: {esc(describe_tool(r.tool_name, r.tool_input))}" for r in self.pending_for(session)]

    def is_request_message(self, key: ChatKey, message_id: int) -> bool:
        return self._by_message(key, message_id) is not None

    # -- asking -------------------------------------------------------------------

    async def ask(
        self, session: ClaudeSession, tool_name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResult:
        if tool_name in AUTO_APPROVED or covers(session.record, tool_name, tool_input):
            return _allow()
        turn = self.current_turn(session)
        if turn is None:
            return _deny("No chat is waiting on this turn, so nobody can approve the request.")
        request = ApprovalRequest(
            token=secrets.token_hex(5),
            session=session,
            key=turn.key,
            tool_name=tool_name,
            tool_input=tool_input,
            title=context.title,
            remember=remembered(context.suggestions, exact_rule(tool_name, tool_input)),
            future=asyncio.get_running_loop().create_future(),
            fits=input_fits(tool_name, tool_input),
        )
        self._pending[request.token] = request
        try:
            request.message_id = await self.view.show_request(request)
            if request.message_id is None:
                return _deny("The request could not be shown in the chat, so it was not allowed.")
            if not request.fits:  # the whole input, so nobody allows what they could not read
                await self.view.attach_input(request, full_input(tool_name, tool_input))
            self.waiting(session, request.about)
            return await asyncio.wait_for(request.future, self.timeout)
        except TimeoutError:
            return self._expire(request)
        except asyncio.CancelledError:  # the turn was stopped, or its Claude Code process closed
            self._finish(request, Resolution.CANCELLED)
            raise
        finally:
            self._pending.pop(request.token, None)
            pending = self.pending_for(session)
            self.waiting(session, pending[0].about if pending else None)

    def _expire(self, request: ApprovalRequest) -> PermissionResult:
        self._finish(request, Resolution.EXPIRED)
        if request.kind == "question":
            return _deny("The user did not answer the question in time.")
        if request.kind == "plan":
            return _deny("The user did not answer in time; keep planning.")
        return _deny("The user did not answer the permission request in time, so it was denied.")

    # -- answering ----------------------------------------------------------------

    def press(self, *, token: str, action: str, choice: int, user_id: int | None, key: ChatKey, message_id: int) -> str:
        """A button on a request message; returns the short notice for the person who pressed it."""
        request = self._pending.get(token)
        if request is None or request.key != key or request.message_id != message_id or request.future.done():
            return EXPIRED
        if user_id not in self.allowed_users:
            return NOT_ALLOWED
        kind = request.kind
        if kind == "tool" and action == "once":
            return self._decide(request, _allow(), Resolution.ALLOWED_ONCE)
        if kind == "tool" and action == "always" and request.offers_remember:
            return self._allow_always(request)
        if kind == "tool" and action == "deny":
            return self._decide(request, _deny("The user denied this."), Resolution.DENIED)
        if kind == "plan" and action == "approve":
            return self._approve_plan(request)
        if kind == "plan" and action == "keep":
            return self._decide(request, _deny("The user wants you to keep planning."), Resolution.KEEP_PLANNING)
        if kind == "question" and action == "pick" and 0 <= choice < len(request.labels):
            return self._pick(request, request.labels[choice])
        if kind == "question" and action == "done" and request.picked:
            return self._answer(request, ", ".join(request.picked))
        if kind == "question" and action == "done":
            return "Pick at least one option first."
        if kind == "question" and action == "dismiss":
            return self._decide(request, _deny("The user dismissed the question."), Resolution.DISMISSED)
        return EXPIRED

    def reply(self, *, key: ChatKey, message_id: int, user_id: int | None, text: str) -> None:
        """A text reply to a request message: the answer to a question, or the reason for saying no.

        Taken, the request message shows it; else RequestClosed says why not.
        """
        request = self._by_message(key, message_id)
        if request is None:
            raise RequestClosed(EXPIRED)
        if user_id not in self.allowed_users:
            raise RequestClosed(NOT_ALLOWED)
        text = text.strip()
        if request.kind == "question":
            self._answer(request, text)
        elif request.kind == "plan":
            result = _deny(f"The user wants changes to the plan: {text}")
            self._decide(request, result, Resolution.KEEP_PLANNING, text)
        else:
            self._decide(request, _deny(f"The user denied this: {text}"), Resolution.DENIED, text)

    def _allow_always(self, request: ApprovalRequest) -> str:
        session = request.session
        request.remember.apply(session.record)
        session.touch()
        return self._decide(request, _allow(updated_permissions=request.remember.updates()), Resolution.ALWAYS_ALLOWED)

    def _approve_plan(self, request: ApprovalRequest) -> str:
        record = request.session.record
        if (record.permission_mode or self.default_mode) == "plan":
            # Claude Code leaves plan mode on approval; the chat follows, so a restart does not re-enter it.
            record.permission_mode = "default"
            request.session.touch()
        return self._decide(request, _allow(), Resolution.PLAN_APPROVED)

    def _pick(self, request: ApprovalRequest, label: str) -> str:
        if not request.question.get("multiSelect"):
            return self._answer(request, label)
        if label in request.picked:
            request.picked.remove(label)
        else:
            request.picked.append(label)
        self._refresh(request)
        return f"{len(request.picked)} picked."

    def _answer(self, request: ApprovalRequest, answer: str) -> str:
        request.answers[str(request.question["question"])] = answer
        request.picked = []
        if len(request.answers) < len(request.questions):
            self._refresh(request)
            return "Next question."
        updated = {**request.tool_input, "answers": dict(request.answers)}
        return self._decide(request, _allow(updated_input=updated), Resolution.ANSWERED)

    def _decide(self, request: ApprovalRequest, result: PermissionResult, how: Resolution, reason: str = "") -> str:
        request.future.set_result(result)
        self._pending.pop(request.token, None)
        self._finish(request, how, reason)
        return "Done."

    # -- the message --------------------------------------------------------------

    def _by_message(self, key: ChatKey, message_id: int) -> ApprovalRequest | None:
        for request in self._pending.values():
            if request.key == key and request.message_id == message_id and not request.future.done():
                return request
        return None

    def _refresh(self, request: ApprovalRequest) -> None:
        if request.message_id is not None:
            self.view.update_request(request)

    def _finish(self, request: ApprovalRequest, how: Resolution, reason: str = "") -> None:
        """Show what happened to the request; its choices go away."""
        oplog.approval(request.key, request.tool_name, how.value, reason)
        if request.message_id is not None:
            self.view.resolve_request(request, how, reason)
