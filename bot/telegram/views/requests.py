"""Claude's requests in Telegram: an HTML message with inline buttons, edited as it is answered."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.claude.requests import ApprovalRequest, Resolution
from bot.claude.permissions import rule_string
from bot.features.texts import esc
from bot.telegram.control_keyboards import plan_keyboard, question_keyboard, tool_keyboard
from bot.telegram.outbox import Outboxes
from bot.telegram.views import approval_texts as texts

_SAID = {
    Resolution.ALLOWED_ONCE: "✅ Allowed once.",
    Resolution.DENIED: "❌ Denied.",
    Resolution.PLAN_APPROVED: "✅ Plan approved: Claude starts working.",
    Resolution.KEEP_PLANNING: "📝 Keep planning.",
    Resolution.ANSWERED: "✅ Answered.",
    Resolution.DISMISSED: "✖️ Dismissed.",
    Resolution.CANCELLED: "⏹ Cancelled: the turn was stopped.",
}
_EXPIRED = {"question": "⌛ Dismissed", "plan": "⌛ Not approved", "tool": "⌛ Denied"}


class TelegramRequests:
    """The approvals' RequestsView."""

    def __init__(self, outboxes: Outboxes, timeout: float) -> None:
        self.outboxes = outboxes
        self.timeout = timeout  # said in the hints: "Unanswered, it is denied in 5 min."

    async def show_request(self, request: ApprovalRequest) -> int | None:
        text, markup = self._message(request)
        return await self.outboxes.send_text(request.key, text, parse_mode="HTML", reply_markup=markup)

    async def attach_input(self, request: ApprovalRequest, text: str) -> None:
        name = f"request-{request.token}.txt"
        await self.outboxes.send_document(request.key, name, text.encode(), reply_to=request.message_id)

    def update_request(self, request: ApprovalRequest) -> None:
        assert request.message_id is not None
        text, markup = self._message(request)
        self.outboxes.edit_text(request.key, request.message_id, text, parse_mode="HTML", reply_markup=markup)

    def resolve_request(self, request: ApprovalRequest, how: Resolution, reason: str = "") -> None:
        assert request.message_id is not None
        said = f"{_body(request)}\n\n{self._resolution(request, how, reason)}"
        self.outboxes.edit_text(request.key, request.message_id, said, parse_mode="HTML")

    def _resolution(self, request: ApprovalRequest, how: Resolution, reason: str) -> str:
        if how is Resolution.EXPIRED:
            return f"{_EXPIRED[request.kind]}: nobody answered within {texts.duration(self.timeout)}."
        if how is Resolution.ALWAYS_ALLOWED:
            remember = request.remember
            if remember.rules:
                rules = ", ".join(rule_string(rule) for rule in remember.rules)
                return f"✅ Always allowed in this chat: <code>{esc(rules)}</code>"
            return f"✅ Allowed; this chat is now in <b>{esc(remember.mode)}</b> mode (/mode changes it)."
        said = _SAID[how]  # with the user's words: "❌ Denied: too risky"
        return f"{said.removesuffix('.')}: {esc(reason)}" if reason else said

    def _message(self, request: ApprovalRequest) -> tuple[str, InlineKeyboardMarkup]:
        body = _body(request)
        if request.kind == "question":
            multi = bool(request.question.get("multiSelect"))
            markup = question_keyboard(request.token, request.labels, multi=multi, picked=request.picked)
            return f"{body}\n\n{texts.question_hint(self.timeout, multi=multi)}", markup
        if request.kind == "plan":
            return f"{body}\n\n{texts.plan_hint(self.timeout)}", plan_keyboard(request.token)
        notes = []
        if not request.fits:
            notes.append(texts.cut_notice(request.tool_name, request.tool_input))
        elif request.remember.rules:  # "Always allow" names exactly what it stores
            notes.append(texts.rules_notice(", ".join(rule_string(rule) for rule in request.remember.rules)))
        text = "\n\n".join([body, *notes, texts.tool_hint(self.timeout)])
        return text, tool_keyboard(request.token, _remember_label(request))


def _body(request: ApprovalRequest) -> str:
    if request.kind == "question":
        if len(request.answers) == len(request.questions):
            return texts.answers_body(request.answers)
        return texts.question_body(request.question, len(request.answers), len(request.questions), request.picked)
    if request.kind == "plan":
        return texts.plan_body(str(request.tool_input.get("plan") or ""))
    return texts.tool_body(request.tool_name, request.tool_input, request.title)


def _remember_label(request: ApprovalRequest) -> str | None:
    remember = request.remember
    if not request.offers_remember:
        return None
    if remember.rules:
        return "✅ Always allow in this chat"
    if remember.mode == "acceptEdits":
        return "✅ Allow all edits in this chat"
    if remember.mode:
        return f"✅ Switch this chat to {remember.mode}"
    return None
