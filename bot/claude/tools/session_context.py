"""The `session_context` tool: Claude asks who is speaking, from which chat, in which session."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.sessions.links import SessionRoutes
from bot.sessions.session import ClaudeSession, Turn

if TYPE_CHECKING:
    from claude_agent_sdk import SdkMcpTool

TOOL_NAME = "session_context"


def context_of(session: ClaudeSession, routes: SessionRoutes, turn: Turn | None) -> dict[str, Any]:
    members = routes.members(session.name)
    return {
        "platform": "telegram",
        "chat_id": turn.key.chat_id if turn else session.record.chat_id,
        "chat_title": turn.chat_title if turn else session.record.title,
        "topic_id": turn.key.thread_id if turn else session.record.thread_id,
        "user_id": turn.user_id if turn else None,
        "user_name": turn.user_name if turn else None,
        "session_id": session.session_id,
        "unified_session": session.name,
        "shared_with": [str(member) for member in members],
        "working_dir": session.record.working_dir,
    }


def session_context_tool(
    session: ClaudeSession, routes: SessionRoutes, current_turn: Callable[[ClaudeSession], Turn | None]
) -> SdkMcpTool[Any]:
    from claude_agent_sdk import tool

    @tool(
        TOOL_NAME,
        "Who is speaking to you right now: platform, chat id and title, forum topic id, the user's id "
        "and name, and the session this chat shares (if it is linked with other chats).",
        {},
    )
    async def session_context(_: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": json.dumps(context_of(session, routes, current_turn(session)))}]}

    return session_context
