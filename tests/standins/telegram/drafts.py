"""Drafts (Bot API 9.5 `sendMessageDraft`, 10.3 `can_stop`/`keep_on_stop`) and the `stopped_message_generation` update."""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import EllipsisType

from tests.standins.telegram.errors import bad_request
from tests.standins.telegram.limits import MAX_TEXT, _check_entity_count
from tests.standins.telegram.params import _Params

PEER_INVALID = "TEXTDRAFT_PEER_INVALID"  # Telegram's answer to a draft outside a private chat


@dataclass(frozen=True)
class Draft:
    """One accepted sendMessageDraft: what the user's app shows while the bot writes."""

    chat_id: int
    thread_id: int | None
    draft_id: int
    text: str  # "" shows Telegram's "Thinking…" placeholder
    can_stop: bool
    keep_on_stop: bool
    at: float  # time.monotonic() when it was accepted


class Drafts:
    """Part of TelegramStandin (see standin.py for its state: drafts, _drafts_refused)."""

    def refuse_drafts(self, refuse: bool = True) -> None:
        """Every draft is refused as Telegram refuses one where drafts are not allowed."""
        self._drafts_refused = refuse

    def drafts_in(self, chat_id: int, thread_id: int | None | EllipsisType = ...) -> list[Draft]:
        """The drafts accepted in a chat (and topic; ``...``: any), oldest first."""
        return [d for d in self.drafts if d.chat_id == chat_id and (thread_id is ... or d.thread_id == thread_id)]

    def stop_draft(self, chat_id: int, draft_id: int, thread_id: int | None = None) -> dict:
        """The user pressed Telegram's stop button on a draft: a `stopped_message_generation` update (no sender)."""
        chat = self._ensure_chat(chat_id, "private", False, None, None, None)
        body: dict = {"chat": chat.to_json(), "draft_id": draft_id}
        if thread_id is not None:
            body["message_thread_id"] = thread_id
        return self._push_update({"stopped_message_generation": body})

    def _send_message_draft(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        if chat.type != "private" or self._drafts_refused:
            raise bad_request(PEER_INVALID)
        draft_id = p.get_int("draft_id")
        if not draft_id:
            raise bad_request("draft_id must be non-zero")
        thread_id = self._target_thread(chat, p)
        # 0-4096 characters after entities parsing; an empty text is allowed (it shows "Thinking…").
        text, entities = self._formatted(p, "text", "entities")
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        _check_entity_count(entities)
        self.drafts.append(
            Draft(chat.id, thread_id, draft_id, text, p.get_bool("can_stop"), p.get_bool("keep_on_stop"), time.monotonic())
        )
        self._notify()
        return True
