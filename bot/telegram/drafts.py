"""The drafts this bot is streaming right now (private chats, Bot API 9.5 `sendMessageDraft`).

Telegram's stop button on a draft sends a `stopped_message_generation` update that names a chat,
a thread and a draft id, but no sender. It is acted on only when it names a draft that is live
here, in that very chat and thread; anything else (another chat, an old or made-up draft id) is
ignored.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from bot.sessions.keys import ChatKey

MAX_DRAFT_ID = 2**31 - 1  # fits every integer type Telegram might use for it


@dataclass(frozen=True)
class LiveDraft:
    session_name: str  # the session whose running turn the draft shows
    on_stop: Callable[[], None]  # the draft itself stops (Telegram stops showing further drafts)


class LiveDrafts:
    def __init__(self) -> None:
        self._live: dict[tuple[ChatKey, int], LiveDraft] = {}

    def new_id(self) -> int:
        """A fresh non-zero draft id (Telegram animates changes within one id; zero is refused)."""
        while True:
            draft_id = secrets.randbelow(MAX_DRAFT_ID) + 1
            if not any(live_id == draft_id for _, live_id in self._live):
                return draft_id

    def add(self, key: ChatKey, draft_id: int, draft: LiveDraft) -> None:
        self._live[(key, draft_id)] = draft

    def remove(self, key: ChatKey, draft_id: int) -> None:
        self._live.pop((key, draft_id), None)

    def stopped(self, key: ChatKey, draft_id: int) -> LiveDraft | None:
        """Telegram's stop button was pressed on ``draft_id`` in ``key``: the live draft it names, if any."""
        draft = self._live.pop((key, draft_id), None)
        if draft is not None:
            draft.on_stop()
        return draft
