"""A turn's prompt (text and images) and the form the SDK takes it in: plain text, or one streamed user message."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Prompt:
    """What Claude receives for one turn: text, and images (media type, data) shown before it."""

    text: str
    images: tuple[tuple[str, bytes], ...] = ()

    def after(self, note: str) -> Prompt:
        """The same prompt with ``note`` put before its text (a resumed turn's note)."""
        return Prompt(note + self.text, self.images)


def sdk_prompt(prompt: Prompt) -> str | AsyncIterator[dict[str, Any]]:
    """Made afresh for every attempt: a stream is consumed by the one query it is sent with."""
    if not prompt.images:
        return prompt.text
    content: list[dict[str, Any]] = [
        {"type": "image", "source": {"type": "base64", "media_type": media, "data": base64.b64encode(data).decode()}}
        for media, data in prompt.images
    ]
    content.append({"type": "text", "text": prompt.text})

    async def stream() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": content}, "parent_tool_use_id": None}

    return stream()
