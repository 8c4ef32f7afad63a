"""/export: this chat's conversation as one Markdown document, read from Claude Code's own transcript.

A conversation can outgrow any document worth sending (Telegram takes 50 MB, a phone opens much
less): past MAX_EXPORT_BYTES the earliest messages are left out, and a note at the top says how many.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.claude.tool_summary import describe_tool
from bot.sessions.session import ClaudeSession

if TYPE_CHECKING:
    from claude_agent_sdk import SessionMessage

_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)
MAX_EXPORT_BYTES = 10 * 2**20


@dataclass(frozen=True)
class Export:
    filename: str
    data: bytes


def _blocks(message: Any) -> list[dict[str, Any]]:
    content = (message or {}).get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [block for block in content or [] if isinstance(block, dict)]


def _section(entry: SessionMessage) -> list[str]:
    """One transcript message as Markdown lines; [] for tool results and the CLI's own bookkeeping."""
    lines: list[str] = []
    for block in _blocks(entry.message):
        kind = block.get("type")
        if kind == "text":
            text = _REMINDER.sub("", str(block.get("text") or "")).strip()
            if text:
                lines += [text, ""]
        elif kind == "tool_use" and entry.type == "assistant":
            lines += [f"- 🔧 {describe_tool(str(block.get('name') or 'tool'), block.get('input') or {})}", ""]
    if not lines:
        return []
    heading = "## 🧑 User" if entry.type == "user" else "## 🤖 Claude"
    return [heading, "", *lines]


@dataclass
class _Part:
    """One section of the document: consecutive transcript messages of one speaker, under one heading."""

    lines: list[str]

    def size(self) -> int:
        return sum(len(line.encode()) + 1 for line in self.lines)


def _parts(messages: list[SessionMessage]) -> list[_Part]:
    parts: list[_Part] = []
    for entry in messages:
        section = _section(entry)
        if not section:
            continue
        if parts and parts[-1].lines[0] == section[0]:
            parts[-1].lines += section[2:]
        else:
            parts.append(_Part(section))
    return parts


def to_markdown(session: ClaudeSession, messages: list[SessionMessage], now: float, limit: int = MAX_EXPORT_BYTES) -> str:
    record = session.record
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now))
    head = [
        f"# {record.title or record.name}",
        "",
        f"Claude Code conversation `{record.session_id}` in `{record.working_dir}`, exported {when}.",
        "",
    ]
    parts = _parts(messages)
    budget = limit - sum(len(line.encode()) + 1 for line in head) - 200  # room for the note
    kept: list[_Part] = []
    cut = False
    for part in reversed(parts):  # the newest messages are kept
        if part.size() > budget:
            if not kept:  # the newest message alone is larger: its end
                tail = "\n".join(part.lines[2:]).encode()[-max(budget, 0):].decode(errors="ignore")
                kept.append(_Part([*part.lines[:2], "…" + tail]))
                cut = True
            break
        kept.append(part)
        budget -= part.size()
    kept.reverse()
    left_out = len(parts) - len(kept)
    size = f"{limit / 2**20:g} MB"
    if left_out:
        head += [f"*This conversation is longer than {size}: its {left_out} earliest messages are left out.*", ""]
    if cut:
        head += [f"*Its newest message alone is longer than {size}: only its end is below.*", ""]
    lines = head + [line for part in kept for line in part.lines]
    return "\n".join(lines).rstrip() + "\n"


def _transcript(session_id: str) -> list[SessionMessage]:
    from claude_agent_sdk import get_session_messages

    return get_session_messages(session_id)


async def export(session: ClaudeSession, now: float | None = None) -> Export | None:
    """The conversation as a document; None when the chat has none yet (or its transcript is gone)."""
    session_id = session.record.session_id
    if not session_id:
        return None
    messages = await asyncio.to_thread(_transcript, session_id)
    if not messages:
        return None
    now = time.time() if now is None else now
    markdown = to_markdown(session, messages, now)
    name = f"conversation-{time.strftime('%Y%m%d-%H%M', time.gmtime(now))}.md"
    return Export(name, markdown.encode())
