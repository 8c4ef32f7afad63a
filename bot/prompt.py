"""What Claude receives for a turn: the user's text, who is speaking in a shared session, images."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

from bot.session import ClaudeSession, Turn


def speaker_prefix(turn: Turn) -> str:
    parts = [f"Chat: {turn.chat_title or turn.key}"]
    if turn.user_name:
        parts.append(f"From: {turn.user_name}")
    return "[" + " | ".join(parts) + "]\n"


def build_prompt(session: ClaudeSession, turn: Turn, *, shared: bool) -> str | AsyncIterator[dict[str, Any]]:
    text = (speaker_prefix(turn) if shared else "") + turn.prompt
    if not turn.images:
        return text
    content: list[dict[str, Any]] = [
        {"type": "image", "source": {"type": "base64", "media_type": media, "data": base64.b64encode(data).decode()}}
        for media, data in turn.images
    ]
    content.append({"type": "text", "text": text})

    async def stream() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": content}, "parent_tool_use_id": None}

    return stream()
