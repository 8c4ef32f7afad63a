"""/export: this chat's conversation as one Markdown document, read from Claude Code's own transcript."""

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


def to_markdown(session: ClaudeSession, messages: list[SessionMessage], now: float) -> str:
    record = session.record
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now))
    lines = [
        f"# {record.title or record.name}",
        "",
        f"Claude Code conversation `{record.session_id}` in `{record.working_dir}`, exported {when}.",
        "",
    ]
    previous = ""
    for entry in messages:
        section = _section(entry)
        if section and section[0] == previous:  # consecutive messages of one speaker: one section
            section = section[2:]
        elif section:
            previous = section[0]
        lines += section
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
