"""Chat keys: which conversation a Telegram update belongs to.

A private chat or plain group is keyed by its chat id; a forum topic by the chat id
and its ``message_thread_id``, so every topic is a separate project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY_RE = re.compile(r"^(-?\d{1,20})(?:_(\d{1,12}))?$")


@dataclass(frozen=True, order=True)
class ChatKey:
    chat_id: int
    thread_id: int | None = None

    @classmethod
    def parse(cls, text: str) -> "ChatKey":
        """Parse ``123``, ``-1001234`` or ``-1001234_7`` (chat id and topic id)."""
        match = _KEY_RE.match(text.strip())
        if not match:
            raise ValueError(f"not a chat key: {text!r} (expected CHAT_ID or CHAT_ID_TOPIC_ID)")
        thread = match.group(2)
        return cls(int(match.group(1)), int(thread) if thread else None)

    def __str__(self) -> str:
        return f"{self.chat_id}_{self.thread_id}" if self.thread_id is not None else str(self.chat_id)

    @property
    def filename(self) -> str:
        return f"{self}.json"
