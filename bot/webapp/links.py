"""Where the review page opens: its URL for a chat (and a turn), and the /start payload that leads a
group's member to it (Telegram allows web_app buttons only in private chats)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef

SHORT = 12  # tree ids shortened, as the Diff button's: bot.features.diff.find matches by prefix
PREFIX = "rv_"
PENDING = "rv_w"  # the payload of the page of everything waiting for an answer
# /start payloads: at most 64 of A-Z a-z 0-9 _ - (Telegram's deep-link rule); "m" stands for a minus sign.
PAYLOAD = re.compile(r"^rv_(m?\d+)(?:t(\d+))?(?:_([0-9a-f]{1,12})_([0-9a-f]{1,12}))?$")


@dataclass(frozen=True)
class PageRequest:
    key: ChatKey
    base: str = ""
    head: str = ""


def page_url(base_url: str, key: ChatKey, change: ChangeRef | None = None) -> str:
    query = {"chat": str(key)}
    if change is not None:
        query |= {"base": change.base[:SHORT], "head": change.head[:SHORT]}
    return base_url + "?" + urlencode(query)


def pending_url(base_url: str) -> str:
    return base_url + "?page=pending"


def start_payload(key: ChatKey, change: ChangeRef | None = None) -> str:
    chat = str(key.chat_id).replace("-", "m") + (f"t{key.thread_id}" if key.thread_id is not None else "")
    turn = f"_{change.base[:SHORT]}_{change.head[:SHORT]}" if change is not None else ""
    return PREFIX + chat + turn


def from_payload(payload: str) -> PageRequest | None:
    match = PAYLOAD.match(payload)
    if match is None:
        return None
    chat, thread, base, head = match.groups()
    key = ChatKey(int(chat.replace("m", "-")), int(thread) if thread else None)
    return PageRequest(key, base or "", head or "")
