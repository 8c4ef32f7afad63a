"""Telegram's stop button on a draft: the turn of a draft live in that chat and thread is stopped; nothing else is."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiogram.types import Chat, MessageGenerationStopped, Update

from bot.sessions.keys import ChatKey
from bot.telegram.drafts import LiveDraft, LiveDrafts
from handlers.drafts import stopped
from handlers.middlewares import AccessMiddleware
from tests.unit.handlers.test_middlewares import FakeCore, handled


class FakeCommands:
    def __init__(self) -> None:
        self.stopped: list[tuple[ChatKey, str]] = []

    async def stop_session(self, key: ChatKey, session_name: str) -> str:
        self.stopped.append((key, session_name))
        return "Stopping…"


def stop_event(chat_id: int, draft_id: int, thread_id: int | None = None) -> MessageGenerationStopped:
    return MessageGenerationStopped(chat=Chat(id=chat_id, type="private"), draft_id=draft_id, message_thread_id=thread_id)


async def test_only_a_live_draft_in_that_chat_and_thread_stops_its_turn() -> None:
    drafts = LiveDrafts()
    ended: list[str] = []
    drafts.add(ChatKey(1, 7), 42, LiveDraft("1_7", lambda: ended.append("drafting ended")))
    commands: Any = FakeCommands()
    core: Any = SimpleNamespace(outboxes=SimpleNamespace(drafts=drafts), commands=commands)
    for other in (stop_event(2, 42, 7), stop_event(1, 42), stop_event(1, 43, 7)):  # another chat, thread, draft
        await stopped(other, core)
    assert commands.stopped == [] and ended == []
    await stopped(stop_event(1, 42, 7), core)
    assert commands.stopped == [(ChatKey(1, 7), "1_7")] and ended == ["drafting ended"]
    await stopped(stop_event(1, 42, 7), core)  # pressed again: that draft is no longer live
    assert len(commands.stopped) == 1


async def test_the_stop_update_has_no_sender_and_still_reaches_its_handler() -> None:
    chat = Chat(id=5, type="private")
    event = Update(update_id=1, stopped_message_generation=stop_event(5, 9))
    assert await AccessMiddleware(FakeCore())(handled, event, {"event_chat": chat}) == "handled"
