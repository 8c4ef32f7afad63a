"""A turn Claude Code finished is found in its transcript (bot/claude/transcripts.py)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.claude.transcripts import finished_answer, read


def user(content: Any) -> SimpleNamespace:
    return SimpleNamespace(type="user", message={"role": "user", "content": content})


def assistant(*texts: str, stop: str = "end_turn", tool: bool = False) -> SimpleNamespace:
    content: list[dict[str, Any]] = [{"type": "text", "text": t} for t in texts]
    if tool:
        content.append({"type": "tool_use", "id": "t1", "name": "Bash", "input": {}})
    return SimpleNamespace(type="assistant", message={"role": "assistant", "content": content, "stop_reason": stop})


def tool_result() -> SimpleNamespace:
    return user([{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}])


def test_the_last_prompt_answered_to_its_end_gives_its_answer() -> None:
    messages = [user("earlier"), assistant("old"), user("<speaker chat=\"x\" />\nfix it"),
                assistant("Looking.", stop="tool_use", tool=True), tool_result(), assistant("Fixed.")]
    assert finished_answer(messages, "fix it") == "Looking.\n\nFixed."


def test_a_turn_cut_short_or_never_sent_is_not_finished() -> None:
    cut = [user("fix it"), assistant("Looking.", stop="tool_use", tool=True), tool_result()]
    assert finished_answer(cut, "fix it") is None
    never_sent = [user("fix it"), assistant("Fixed."), user("next"), assistant("ok")]
    assert finished_answer(never_sent, "fix it") is None  # a later prompt: this one is not the last
    assert finished_answer([user("other"), assistant("ok")], "fix it") is None
    assert finished_answer([], "fix it") is None


def test_system_reminders_alone_are_not_a_prompt() -> None:
    messages = [user("fix it"), assistant("Fixed."), user("<system-reminder>todo list changed</system-reminder>")]
    assert finished_answer(messages, "fix it") == "Fixed."


def test_a_transcript_is_read_without_running_git_in_the_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workspace is Claude's: the SDK's worktree fallback (`git worktree list` there) must never run."""
    import subprocess

    ran: list[Any] = []

    def no_subprocess(*args: Any, **kwargs: Any) -> None:
        ran.append(args[0] if args else kwargs)  # recorded, not raised: the SDK swallows what its fallback raises
        raise OSError("no subprocess here")

    session_id = "0f5a7c3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f"
    folder = tmp_path / "projects" / "-somewhere-else"  # not the folder the chat's directory maps to
    folder.mkdir(parents=True)
    entry = {"type": "user", "uuid": "u1", "parentUuid": None, "sessionId": session_id, "cwd": "/somewhere/else",
             "message": {"role": "user", "content": "fix it"}}
    (folder / f"{session_id}.jsonl").write_text(json.dumps(entry) + "\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setattr(subprocess, "run", no_subprocess)
    [message] = read(session_id)
    assert message.message["content"] == "fix it" and ran == []
