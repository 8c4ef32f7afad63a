"""The bot's own tools for Claude: an in-process MCP server named `bot`, built for each session.

Each tool is made by a factory that gets the session (so the tool acts on that session's
directory and current chat, never a global one); the factories are bound to what they need
when the bot is wired up (bot/app.py), and adding a tool there is one more factory in the list.
Claude sees them as `mcp__bot__<name>`; `send_file` follows the chat's permission mode like any
tool (bot/claude/approvals.py), the read-only `session_context` runs without asking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.chat import ChatOutbox
from bot.security.safe_files import MAX_SEND_BYTES, read_for_sending
from bot.sessions.session import ClaudeSession, Turn
from bot.util.paths import PathRefused, is_inside

if TYPE_CHECKING:
    from claude_agent_sdk import McpSdkServerConfig, SdkMcpTool

SERVER_NAME = "bot"

ToolFactory = Callable[[ClaudeSession], "SdkMcpTool[Any]"]


def bot_server(session: ClaudeSession, factories: Sequence[ToolFactory]) -> McpSdkServerConfig:
    from claude_agent_sdk import create_sdk_mcp_server

    return create_sdk_mcp_server(name=SERVER_NAME, tools=[make(session) for make in factories])


def text_result(text: str, *, error: bool = False) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "is_error": error}


SEND_FILE_SCHEMA = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "description": "The file, relative to the working directory or absolute inside it"},
        "caption": {"type": "string", "description": "An optional line shown under the file"},
    },
    "required": ["path"],
}


def send_file_tool(
    outboxes: ChatOutbox,
    current_turn: Callable[[ClaudeSession], Turn | None],
    allowed_paths: list[Path],
    max_bytes: int = MAX_SEND_BYTES,
) -> ToolFactory:
    def make(session: ClaudeSession) -> SdkMcpTool[Any]:
        from claude_agent_sdk import tool

        @tool(
            "send_file",
            "Send a file from the working directory to the user's Telegram chat (a report, an image, a "
            f"build artifact; up to {max_bytes // (1024 * 1024)} MB). Hidden files and files that look like "
            "secrets (.env, keys, credentials) are never sent.",
            SEND_FILE_SCHEMA,
        )
        async def send_file(args: dict[str, Any]) -> dict[str, Any]:
            turn = current_turn(session)
            if turn is None:
                return text_result("No chat is waiting on this turn, so there is nobody to send the file to.", error=True)
            root = session.working_dir.resolve()
            if not is_inside(root, allowed_paths):  # ALLOWED_PATHS may have changed since the chat chose it
                return text_result(f"Refused: {root} is outside the allowed directories.", error=True)
            try:
                name, data = await asyncio.to_thread(
                    read_for_sending, root, str(args.get("path", "")), [root], max_bytes, refuse_secrets=True
                )
            except PathRefused as refused:
                return text_result(f"Refused: {refused}", error=True)
            caption = args.get("caption") if isinstance(args.get("caption"), str) else None
            if await outboxes.send_document(turn.key, name, data, caption=caption or None) is None:
                return text_result(f"Telegram did not accept {name}.", error=True)
            return text_result(f"Sent {name} ({len(data)} bytes) to the chat.")

        return send_file

    return make
