"""Strangers: one refusal each, in bounded memory; chats outside ALLOWED_CHATS are not served."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from aiogram.types import Chat, Message, Update, User

from handlers import middlewares
from handlers.middlewares import AccessMiddleware


class FakeCore:
    def __init__(self, allowed_chats: list[int] | None = None) -> None:
        self.sent: list[Any] = []
        self.outboxes = SimpleNamespace(send_text=self._send)
        self.allowed_chats = allowed_chats or []

    async def _send(self, key: Any, text: str, **kwargs: Any) -> int:
        self.sent.append(key)
        return 1

    def is_allowed(self, user_id: int | None) -> bool:
        return user_id == 1

    def serves_chat(self, chat_id: int, chat_type: str) -> bool:
        return chat_type == "private" or not self.allowed_chats or chat_id in self.allowed_chats


def update(user_id: int, chat_id: int, chat_type: str = "private") -> tuple[Update, dict[str, Any]]:
    user = User(id=user_id, is_bot=False, first_name="x")
    chat = Chat(id=chat_id, type=chat_type)
    message = Message(message_id=1, date=datetime.now(), chat=chat, from_user=user, text="hi")
    return Update(update_id=1, message=message), {"event_from_user": user, "event_chat": chat}


async def handled(event: Any, data: Any) -> str:
    return "handled"


async def test_refusals_are_once_per_stranger_and_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(middlewares, "MAX_REFUSED_REMEMBERED", 3)
    core = FakeCore()
    access = AccessMiddleware(core)  # type: ignore[arg-type]
    for stranger in (100, 100, 101, 102, 103, 104):
        await access(handled, *update(stranger, stranger))
    assert len(core.sent) == 5 and len(access._refused) == 3  # 100 once; the oldest forgotten


async def test_groups_outside_allowed_chats_are_not_served() -> None:
    core = FakeCore(allowed_chats=[-5])
    access = AccessMiddleware(core)  # type: ignore[arg-type]
    assert await access(handled, *update(1, -5, "group")) == "handled"
    assert await access(handled, *update(1, -6, "group")) is None
    assert await access(handled, *update(1, 1)) == "handled"  # the allowed user's private chat
    assert core.sent == []
