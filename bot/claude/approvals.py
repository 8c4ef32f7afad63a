"""Claude's permission requests, questions and plans, answered from the chat.

Every Claude Code process gets a ``can_use_tool`` callback bound to its session. A request is
shown in the chat of the session's current turn (linked chats share one session, so that is
the chat that asked) and waits for a button, a text reply to it, the turn being stopped, or
the timeout, whichever comes first; whatever decided it, the message then says what happened
and loses its buttons, and no later press or reply can change the answer.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from claude_agent_sdk import (
    CanUseTool,
    CanUseToolShadowedWarning,
    PermissionResult,
    PermissionResultAllow,
    PermissionResultDeny,
    ToolPermissionContext,
)

from bot.claude import approval_texts as texts
from bot.sessions.keys import ChatKey
from bot.claude.permissions import Remembered, covers, exact_rule, remembered, rule_string
from bot.sessions.session import ClaudeSession
from bot.telegram.control_keyboards import plan_keyboard, question_keyboard, tool_keyboard
from bot.telegram.outbox import Outboxes
from bot.features.texts import esc
from bot.claude.tool_summary import describe_tool

log = logging.getLogger(__name__)

# The bot always passes can_use_tool (AskUserQuestion reaches it in every mode), so the SDK's
# warning that bypassPermissions or allowed_tools make it unused for other tools is expected.
warnings.filterwarnings("ignore", category=CanUseToolShadowedWarning)

OWN_TOOLS = "mcp__bot__"
# The bot's own tools that only read what the chat may see anyway; send_file asks like any tool.
AUTO_APPROVED = frozenset({OWN_TOOLS + "session_context"})
EXPIRED = "This request was already answered or has expired."
NOT_ALLOWED = "Only the bot's users can answer Claude's requests."


@dataclass(eq=False)
class ApprovalRequest:
    token: str
    session: ClaudeSession
    key: ChatKey
    tool_name: str
    tool_input: dict[str, Any]
    title: str | None
    remember: Remembered
    future: asyncio.Future[PermissionResult]
    fits: bool = True  # the message shows the whole input; if not, it is attached and "Always allow" is not offered
    message_id: int | None = None
    answers: dict[str, str] = field(default_factory=dict)  # AskUserQuestion: question text -> answer
    picked: list[str] = field(default_factory=list)  # options ticked so far in a multi-select question

    @property
    def questions(self) -> list[dict[str, Any]]:
        return [q for q in self.tool_input.get("questions") or [] if isinstance(q, dict) and q.get("question")]

    @property
    def kind(self) -> str:
        if self.tool_name == "AskUserQuestion" and self.questions:
            return "question"
        return "plan" if self.tool_name == "ExitPlanMode" else "tool"

    @property
    def question(self) -> dict[str, Any]:
        """The question being asked now (questions are answered in order)."""
        return self.questions[len(self.answers)]

    @property
    def labels(self) -> list[str]:
        return [str(o.get("label", "")) for o in self.question.get("options") or [] if isinstance(o, dict)]


class Approvals:
    def __init__(self, outboxes: Outboxes, *, timeout: float, allowed_users: Iterable[int], default_mode: str) -> None:
        self.outboxes = outboxes
        self.timeout = timeout
        self.allowed_users = frozenset(allowed_users)
        self.default_mode = default_mode
        self._pending: dict[str, ApprovalRequest] = {}

    def callback_for(self, session: ClaudeSession) -> CanUseTool:
        async def can_use_tool(tool_name: str, tool_input: dict[str, Any], context: ToolPermissionContext) -> PermissionResult:
            return await self.ask(session, tool_name, tool_input, context)

        return can_use_tool

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
            return PermissionResultAllow()
        turn = session.current_turn
        if turn is None:
            return PermissionResultDeny(message="No chat is waiting on this turn, so nobody can approve the request.")
        request = ApprovalRequest(
            token=secrets.token_hex(5),
            session=session,
            key=turn.key,
            tool_name=tool_name,
            tool_input=tool_input,
            title=context.title,
            remember=remembered(context.suggestions, exact_rule(tool_name, tool_input)),
            future=asyncio.get_running_loop().create_future(),
            fits=texts.input_fits(tool_name, tool_input),
        )
        self._pending[request.token] = request
        try:
            text, markup = self._view(request)
            request.message_id = await self.outboxes.send_text(request.key, text, parse_mode="HTML", reply_markup=markup)
            if request.message_id is None:
                return PermissionResultDeny(message="The request could not be shown in the chat, so it was not allowed.")
            if not request.fits:  # the whole input, so nobody allows what they could not read
                data = texts.full_input(tool_name, tool_input).encode()
                await self.outboxes.send_document(request.key, f"request-{request.token}.txt", data, reply_to=request.message_id)
            return await asyncio.wait_for(request.future, self.timeout)
        except TimeoutError:
            return self._expire(request)
        except asyncio.CancelledError:  # the turn was stopped, or its Claude Code process closed
            self._finish(request, "⏹ Cancelled: the turn was stopped.")
            raise
        finally:
            self._pending.pop(request.token, None)

    def _expire(self, request: ApprovalRequest) -> PermissionResult:
        waited = texts.duration(self.timeout)
        if request.kind == "question":
            self._finish(request, f"⌛ Dismissed: nobody answered within {waited}.")
            return PermissionResultDeny(message="The user did not answer the question in time.")
        if request.kind == "plan":
            self._finish(request, f"⌛ Not approved: nobody answered within {waited}.")
            return PermissionResultDeny(message="The user did not answer in time; keep planning.")
        self._finish(request, f"⌛ Denied: nobody answered within {waited}.")
        return PermissionResultDeny(message="The user did not answer the permission request in time, so it was denied.")

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
            return self._decide(request, PermissionResultAllow(), "✅ Allowed once.")
        if kind == "tool" and action == "always" and request.remember and request.fits:
            return self._allow_always(request)
        if kind == "tool" and action == "deny":
            return self._decide(request, PermissionResultDeny(message="The user denied this."), "❌ Denied.")
        if kind == "plan" and action == "approve":
            return self._approve_plan(request)
        if kind == "plan" and action == "keep":
            return self._decide(request, PermissionResultDeny(message="The user wants you to keep planning."), "📝 Keep planning.")
        if kind == "question" and action == "pick" and 0 <= choice < len(request.labels):
            return self._pick(request, request.labels[choice])
        if kind == "question" and action == "done" and request.picked:
            return self._answer(request, ", ".join(request.picked))
        if kind == "question" and action == "done":
            return "Pick at least one option first."
        if kind == "question" and action == "dismiss":
            return self._decide(request, PermissionResultDeny(message="The user dismissed the question."), "✖️ Dismissed.")
        return EXPIRED

    def reply(self, *, key: ChatKey, message_id: int, user_id: int | None, text: str) -> str | None:
        """A text reply to a request message: the answer to a question, or the reason for saying no.

        None when it was taken (the request message shows it), else a sentence for the chat.
        """
        request = self._by_message(key, message_id)
        if request is None:
            return EXPIRED
        if user_id not in self.allowed_users:
            return NOT_ALLOWED
        text = text.strip()
        if request.kind == "question":
            self._answer(request, text)
        elif request.kind == "plan":
            result = PermissionResultDeny(message=f"The user wants changes to the plan: {text}")
            self._decide(request, result, f"📝 Keep planning: {esc(text)}")
        else:
            self._decide(request, PermissionResultDeny(message=f"The user denied this: {text}"), f"❌ Denied: {esc(text)}")
        return None

    def _allow_always(self, request: ApprovalRequest) -> str:
        session = request.session
        request.remember.apply(session.record)
        session.touch()
        if request.remember.rules:
            rules = ", ".join(rule_string(rule) for rule in request.remember.rules)
            outcome = f"✅ Always allowed in this chat: <code>{esc(rules)}</code>"
        else:
            outcome = f"✅ Allowed; this chat is now in <b>{esc(request.remember.mode)}</b> mode (/mode changes it)."
        return self._decide(request, PermissionResultAllow(updated_permissions=request.remember.updates()), outcome)

    def _approve_plan(self, request: ApprovalRequest) -> str:
        record = request.session.record
        if (record.permission_mode or self.default_mode) == "plan":
            # Claude Code leaves plan mode on approval; the chat follows, so a restart does not re-enter it.
            record.permission_mode = "default"
            request.session.touch()
        return self._decide(request, PermissionResultAllow(), "✅ Plan approved: Claude starts working.")

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
        return self._decide(request, PermissionResultAllow(updated_input=updated), "✅ Answered.")

    def _decide(self, request: ApprovalRequest, result: PermissionResult, outcome: str) -> str:
        request.future.set_result(result)
        self._pending.pop(request.token, None)
        self._finish(request, outcome)
        return "Done."

    # -- the message --------------------------------------------------------------

    def _by_message(self, key: ChatKey, message_id: int) -> ApprovalRequest | None:
        for request in self._pending.values():
            if request.key == key and request.message_id == message_id and not request.future.done():
                return request
        return None

    def _body(self, request: ApprovalRequest) -> str:
        if request.kind == "question":
            if len(request.answers) == len(request.questions):
                return texts.answers_body(request.answers)
            return texts.question_body(request.question, len(request.answers), len(request.questions), request.picked)
        if request.kind == "plan":
            return texts.plan_body(str(request.tool_input.get("plan") or ""))
        return texts.tool_body(request.tool_name, request.tool_input, request.title)

    def _view(self, request: ApprovalRequest) -> tuple[str, Any]:
        body = self._body(request)
        if request.kind == "question":
            multi = bool(request.question.get("multiSelect"))
            markup = question_keyboard(request.token, request.labels, multi=multi, picked=request.picked)
            return f"{body}\n\n{texts.question_hint(self.timeout, multi=multi)}", markup
        if request.kind == "plan":
            return f"{body}\n\n{texts.plan_hint(self.timeout)}", plan_keyboard(request.token)
        label = None
        notes = []
        if not request.fits:
            notes.append(texts.cut_notice(request.tool_name, request.tool_input))
        elif request.remember.rules:
            label = "✅ Always allow in this chat"
            notes.append(texts.rules_notice(", ".join(rule_string(rule) for rule in request.remember.rules)))
        elif request.remember.mode == "acceptEdits":
            label = "✅ Allow all edits in this chat"
        elif request.remember.mode:
            label = f"✅ Switch this chat to {request.remember.mode}"
        return "\n\n".join([body, *notes, texts.tool_hint(self.timeout)]), tool_keyboard(request.token, label)

    def _refresh(self, request: ApprovalRequest) -> None:
        if request.message_id is not None:
            text, markup = self._view(request)
            self.outboxes.edit_text(request.key, request.message_id, text, parse_mode="HTML", reply_markup=markup)

    def _finish(self, request: ApprovalRequest, outcome: str) -> None:
        """Show what happened to the request; the message loses its buttons."""
        if request.message_id is not None:
            self.outboxes.edit_text(request.key, request.message_id, f"{self._body(request)}\n\n{outcome}", parse_mode="HTML")
