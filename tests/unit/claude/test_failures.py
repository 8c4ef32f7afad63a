"""A Claude Code CLI that refuses to start: one sentence for the chat, its stderr in the log (the real CLI)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.claude.cli_limits import refused_modes
from bot.claude.failures import StderrTail, api_error_sentence, start_failure_sentence
from bot.claude.runner import ClaudeRunner
from bot.sessions.keys import ChatKey
from bot.sessions.records import SessionRecord
from bot.sessions.session import ClaudeSession, Turn
from bot.sessions.store import SessionStore
from tests.standins.cli_env import cli_env


def test_the_stderr_tail_keeps_the_last_lines() -> None:
    tail = StderrTail(size=3)
    for n in range(5):
        tail(f"line {n}\n")
    assert tail.text() == "line 2\nline 3\nline 4"


def test_sentences_name_the_cause() -> None:
    assert "model claude-x" in (api_error_sentence("model_not_found", "claude-x") or "")
    assert api_error_sentence("rate_limit", "m") is None  # the runner's own table answers those
    assert "IS_SANDBOX=1" in start_failure_sentence("--dangerously-skip-permissions cannot be used with root/sudo privileges")
    assert "operator should check the bot's log" in start_failure_sentence("")


@pytest.mark.skipif(os.geteuid() != 0, reason="Claude Code refuses bypassPermissions only as root")
async def test_a_refused_start_explains_itself_and_logs_the_cli_stderr(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tail = StderrTail()
    env = {**cli_env(tmp_path / "home", "http://127.0.0.1:9"), "IS_SANDBOX": ""}
    runner = ClaudeRunner(base_options=lambda: {"env": env, "stderr": tail, "permission_mode": "bypassPermissions"},
                          stderr_tail=tail.text)
    session = ClaudeSession(record=SessionRecord(name="1", working_dir=str(tmp_path)), store=SessionStore(tmp_path / "s"))
    with caplog.at_level(logging.ERROR, logger="bot.claude.runner"):
        outcome = await runner.run(session, Turn(key=ChatKey(1), prompt="hi"), "hi", lambda event: None)
    await runner.close_all()
    assert outcome.error and "refuses bypassPermissions" in outcome.error and "/mode" in outcome.error
    assert "cannot be used with root/sudo privileges" in caplog.text


def test_refused_modes() -> None:
    assert "bypassPermissions" in refused_modes({}, euid=0)
    assert refused_modes({"IS_SANDBOX": "1"}, euid=0) == {}
    assert refused_modes({"IS_SANDBOX": "true"}, euid=0)  # the CLI accepts only "1"
    assert refused_modes({}, euid=1000) == {}
