"""The inbox keeps every accepted message until it is settled, across restarts and torn writes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.sessions.keys import ChatKey
from bot.sessions.records import RecordedAnswer
from bot.sessions.inbox import Accepted, Inbox, InboxWriteFailed

KEY = ChatKey(42)


def message(n: int, key: ChatKey = KEY) -> Accepted:
    update = {"update_id": 1000 + n, "message": {"message_id": n, "chat": {"id": key.chat_id}, "text": f"m{n}"}}
    return Accepted(update_id=1000 + n, update=update, key=key, message_id=n)


async def test_pending_messages_survive_a_restart_in_order(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.load()
    for n in (5, 3, 9):
        await inbox.accept(message(n))
    await inbox.settle(inbox.get("42:3"))  # type: ignore[arg-type]

    again = Inbox(tmp_path).load()
    assert [(e.message_id, e.seq) for e in again] == [(5, 1), (9, 3)]
    assert again[0].update["message"]["text"] == "m5" and again[0].update_id == 1005


async def test_runs_answers_notices_and_edits_are_carried_on(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.load()
    entry = await inbox.accept(message(1))
    await inbox.note(entry, "notice", 100)
    await inbox.note(entry, "prompt", "edited")
    await inbox.started(entry)
    await inbox.note(entry, "progress", 101)
    answer = RecordedAnswer(kind="finish", text="the final text")  # as the scheduler records it
    await inbox.note(entry, "answer", answer)

    (loaded,) = Inbox(tmp_path).load()
    assert (loaded.prompt, loaded.runs, loaded.notice_id, loaded.progress_id, loaded.answer) == (
        "edited", 1, 100, 101, answer
    )
    # The rewrite at load keeps the same facts for the next start.
    (again,) = Inbox(tmp_path).load()
    assert (again.prompt, again.runs, again.answer) == ("edited", 1, answer)


async def test_new_messages_continue_the_order_after_a_restart(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.load()
    await inbox.accept(message(1))
    second = Inbox(tmp_path)
    second.load()
    entry = await second.accept(message(2))
    assert entry.seq == 2


async def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.load()
    await inbox.accept(message(1))
    with open(inbox.path, "ab") as handle:
        handle.write(b'{"t":"in","key":"42","mess')  # killed mid-write
    assert [e.message_id for e in Inbox(tmp_path).load()] == [1]


async def test_a_settled_message_is_not_carried_on(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.load()
    entry = await inbox.accept(message(1))
    await inbox.settle(entry)
    await inbox.settle(entry)  # twice is harmless
    assert Inbox(tmp_path).load() == []


async def test_the_file_is_private(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.load()
    await inbox.accept(message(1))
    assert os.stat(inbox.path).st_mode & 0o777 == 0o600


async def test_a_full_disk_is_an_error_not_a_silent_loss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = Inbox(tmp_path)
    inbox.load()

    def full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(InboxWriteFailed, match="No space"):
        await inbox.accept(message(1))
    monkeypatch.undo()
    assert inbox.pending() == [] and Inbox(tmp_path).load() == []


async def test_an_edit_is_journaled_beside_its_message_and_settling_it_leaves_the_message(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.load()
    original = await inbox.accept(message(1))
    edit = await inbox.accept(Accepted(update_id=2001, update={"update_id": 2001}, key=KEY, message_id=1, edit=True))
    await inbox.note(original, "prompt", "edited")  # what the edit changes: the message's own entry
    await inbox.settle(edit)  # the edit's handler is done with it
    (kept,) = Inbox(tmp_path).load()
    assert (kept.id, kept.prompt, kept.edit) == ("42:1", "edited", False)


async def test_the_journal_compacts_while_messages_are_pending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.sessions.inbox.COMPACT_BYTES", 2000)
    inbox = Inbox(tmp_path)
    inbox.load()
    waiting = await inbox.accept(message(1))  # never settled: the bot is never idle
    for n in range(2, 60):
        await inbox.settle(await inbox.accept(message(n)))
    assert (tmp_path / "inbox.jsonl").stat().st_size < 4000
    assert [e.message_id for e in Inbox(tmp_path).load()] == [waiting.message_id]


async def test_an_answered_message_is_settled_at_once_even_while_another_note_is_being_written(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    inbox.load()
    answered, other = await inbox.accept(message(1)), await inbox.accept(message(2))
    async with inbox._lock:  # another entry's note (an fsync) is under way
        await asyncio.wait_for(inbox.settle(answered), timeout=1)  # not behind it: a kill now must not repeat the answer
    assert [e.message_id for e in Inbox(tmp_path).load()] == [other.message_id]
