"""How Claude's permission requests, questions and plans read in the chat (Telegram HTML, all values escaped)."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from bot.claude.request_input import DIFF_LINES, SHOWN_LIMIT, diff_lines, full_input
from bot.claude.tool_summary import describe_tool
from bot.util.text import clip, duration, esc, shorten

BLOCK_LIMIT = SHOWN_LIMIT  # a request stays far below 4096 characters
PLAN_LIMIT = 3000


def visible(text: str) -> str:
    """Bidi controls, zero-width and other invisible format characters shown as ⟨U+202E⟩: what you read is what runs."""
    return "".join(f"⟨U+{ord(c):04X}⟩" if unicodedata.category(c) == "Cf" else c for c in text)


def cut_notice(tool_name: str, tool_input: dict[str, Any]) -> str:
    size = len(full_input(tool_name, tool_input))
    return f"✂️ <b>Shown cut:</b> the input is {size:,} characters; all of it is in the attached file. Read it before allowing."


def rules_notice(rules: str) -> str:
    return f"“Always allow” stores <code>{esc(visible(rules))}</code> for this chat."


def _pre(text: str, language: str = "") -> str:
    text = visible(clip(text, BLOCK_LIMIT))
    if language:
        return f'<pre><code class="language-{language}">{esc(text)}</code></pre>'
    return f"<pre>{esc(text)}</pre>"


def short_diff(old: str, new: str) -> str:
    """A unified diff without file headers, at most DIFF_LINES lines."""
    lines = diff_lines(old, new)
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"… {len(lines) - DIFF_LINES} more lines"]
    return "\n".join(lines)


def _details(tool_name: str, tool_input: dict[str, Any]) -> list[str]:
    """The key input of a tool call: the command, the file and its change, or the main argument."""
    path = tool_input.get("file_path") or tool_input.get("notebook_path")
    if tool_name == "Bash" and isinstance(tool_input.get("command"), str):
        lines = [_pre(tool_input["command"], "bash")]
        if isinstance(tool_input.get("description"), str):
            lines.append(esc(visible(shorten(tool_input["description"], 200))))
        return lines
    if tool_name == "Edit" and isinstance(path, str):
        diff = short_diff(str(tool_input.get("old_string", "")), str(tool_input.get("new_string", "")))
        return [f"<code>{esc(visible(path))}</code>", _pre(diff, "diff")]
    if tool_name == "MultiEdit" and isinstance(path, str):
        edits = [e for e in tool_input.get("edits") or [] if isinstance(e, dict)]
        diff = "\n".join(short_diff(str(e.get("old_string", "")), str(e.get("new_string", ""))) for e in edits)
        return [f"<code>{esc(visible(path))}</code> ({len(edits)} edits)", _pre(diff, "diff")]
    if tool_name == "Write" and isinstance(path, str):
        content = str(tool_input.get("content", ""))
        return [f"<code>{esc(visible(path))}</code> ({len(content.encode())} bytes)", _pre(content)]
    described = describe_tool(tool_name, tool_input, limit=BLOCK_LIMIT)
    if described != tool_name:
        return [_pre(described.removeprefix(f"{tool_name}: "))]
    if tool_input:
        return [_pre(json.dumps(tool_input, ensure_ascii=False, indent=1))]
    return []


def tool_body(tool_name: str, tool_input: dict[str, Any], title: str | None) -> str:
    heading = esc(visible(title)) if title else f"Claude wants to use <b>{esc(visible(tool_name))}</b>"
    return "\n".join([f"🔐 {heading}", *_details(tool_name, tool_input)])


def plan_body(plan: str) -> str:
    plan = plan.strip() or "(The plan is not attached; it is in Claude's messages above.)"
    return f"📋 <b>Claude's plan</b>\n\n{esc(clip(plan, PLAN_LIMIT))}"


def question_body(question: dict[str, Any], index: int, total: int, picked: list[str]) -> str:
    header = esc(question.get("header") or "Question")
    counter = f" ({index + 1} of {total})" if total > 1 else ""
    lines = [f"❓ <b>{header}</b>{counter}: {esc(question.get('question', ''))}"]
    for option in question.get("options") or []:
        mark = "✅" if option.get("label") in picked else "•"
        description = f" — {esc(option['description'])}" if option.get("description") else ""
        lines.append(f"{mark} {esc(option.get('label', ''))}{description}")
    return "\n".join(lines)


def answers_body(answers: dict[str, str]) -> str:
    return "\n".join(f"❓ {esc(question)}\n→ <b>{esc(answer)}</b>" for question, answer in answers.items())


def tool_hint(timeout_s: float) -> str:
    return f"<i>Reply to this message to deny it with a reason. Unanswered, it is denied in {duration(timeout_s)}.</i>"


def plan_hint(timeout_s: float) -> str:
    return f"<i>Approve it, or reply to this message with what to change. Unanswered, Claude keeps planning after {duration(timeout_s)}.</i>"


def question_hint(timeout_s: float, *, multi: bool) -> str:
    pick = "Pick any, then press Done" if multi else "Pick one"
    return f"<i>{pick}, or reply to this message with your own answer. Unanswered, it is dismissed in {duration(timeout_s)}.</i>"
