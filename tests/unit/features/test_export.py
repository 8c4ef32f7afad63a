"""/export's document: past its size bound the earliest messages are left out, and a note says how many."""

from __future__ import annotations

from pathlib import Path

from claude_agent_sdk import SessionMessage

from bot.features.export import to_markdown
from bot.sessions.records import SessionRecord
from bot.sessions.session import ClaudeSession
from bot.sessions.store import SessionStore


def _session(tmp_path: Path) -> ClaudeSession:
    record = SessionRecord(name="1", working_dir=str(tmp_path), session_id="sid", title="Chat")
    return ClaudeSession(record=record, store=SessionStore(tmp_path / "s"))


def _message(kind: str, text: str, n: int) -> SessionMessage:
    return SessionMessage(type=kind, uuid=f"u{n}", session_id="sid", message={"role": kind, "content": text})


def _conversation(turns: int, size: int) -> list[SessionMessage]:
    messages = []
    for n in range(turns):
        messages += [_message("user", f"question {n:03} " + "q" * size, 2 * n), _message("assistant", f"answer {n:03} " + "a" * size, 2 * n + 1)]
    return messages


def test_a_conversation_within_the_bound_is_whole(tmp_path: Path) -> None:
    text = to_markdown(_session(tmp_path), _conversation(3, 10), 0, limit=10_000)
    assert "left out" not in text and text.count("## 🧑 User") == 3 and "question 000" in text and "answer 002" in text


def test_past_the_bound_the_earliest_messages_are_left_out_and_the_note_says_how_many(tmp_path: Path) -> None:
    text = to_markdown(_session(tmp_path), _conversation(50, 1000), 0, limit=20_000)
    assert len(text.encode()) <= 20_000
    kept = text.count("## 🧑 User") + text.count("## 🤖 Claude")
    assert f"*This conversation is longer than {20_000 / 2**20:g} MB: its {100 - kept} earliest messages are left out.*" in text
    assert 10 < kept < 100 and "answer 049" in text and "question 000" not in text
    assert text.index("left out") < text.index("## ")  # the note comes before the conversation


def test_a_newest_message_larger_than_the_bound_keeps_its_end(tmp_path: Path) -> None:
    messages = [*_conversation(1, 10), _message("user", "start " + "x" * 50_000 + " THE-END", 9)]
    text = to_markdown(_session(tmp_path), messages, 0, limit=20_000)
    assert len(text.encode()) <= 20_000 and text.rstrip().endswith("THE-END") and "start " not in text
    assert "its 2 earliest messages are left out" in text and "only its end is below" in text
