"""Claude's requests waiting for the user (permission to run a tool, a question, a plan) and how they
were decided: plain records, shared by the deciding code (approvals.py) and the chat views (bot/chat.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from bot.claude.permissions import Remembered
from bot.claude.tool_summary import describe_tool
from bot.sessions.keys import ChatKey
from bot.sessions.session import ClaudeSession

if TYPE_CHECKING:
    from claude_agent_sdk import PermissionResult


class Resolution(Enum):
    """How a request was decided; the view says it in words."""

    ALLOWED_ONCE = "allowed once"
    ALWAYS_ALLOWED = "always allowed"  # request.remember says what is remembered
    DENIED = "denied"
    PLAN_APPROVED = "plan approved"
    KEEP_PLANNING = "keep planning"
    ANSWERED = "answered"
    DISMISSED = "dismissed"
    CANCELLED = "cancelled"  # the turn was stopped
    EXPIRED = "expired"  # nobody answered in time


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
    def offers_remember(self) -> bool:
        """Whether "Always allow" (or the mode Claude Code suggests) is offered: never for an input shown cut."""
        return self.fits and bool(self.remember)

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
    def about(self) -> str:
        """What the request is about, in a few words (a progress message or draft names it: it may be above or below)."""
        if self.kind == "question":
            return f"Claude's question ({self.questions[0].get('question')})"
        if self.kind == "plan":
            return "Claude's plan"
        return describe_tool(self.tool_name, self.tool_input)

    @property
    def labels(self) -> list[str]:
        return [str(o.get("label", "")) for o in self.question.get("options") or [] if isinstance(o, dict)]
