import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_bot(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ALLOWED_", "CLAUDE_", "SESSION_"))}
    return subprocess.run(
        # PYTHONPATH: this tree's bot, not whichever one the environment has installed.
        [sys.executable, "-m", "bot"], env={**clean, "PYTHONPATH": str(ROOT), **env}, cwd=tmp_path, capture_output=True,
        text=True, timeout=60,
    )


@pytest.mark.parametrize(
    "env, names",
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "1:x"}, "ALLOWED_USERS"),
        ({"TELEGRAM_BOT_TOKEN": "nonsense", "ALLOWED_USERS": "1"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1,bob"}, "ALLOWED_USERS"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "MAX_CONCURRENT_QUERIES": "0"}, "MAX_CONCURRENT_QUERIES"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "MAX_LIVE_CLIENTS": "0"}, "MAX_LIVE_CLIENTS"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "CLIENT_IDLE_SECONDS": "soon"}, "CLIENT_IDLE_SECONDS"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "CLAUDE_PERMISSION_MODE": "yolo"}, "CLAUDE_PERMISSION_MODE"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "CLAUDE_WORKING_DIR": "/nonexistent/dir"}, "CLAUDE_WORKING_DIR"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "SESSION_CHAT_GROUPS": "{bad json"}, "SESSION_CHAT_GROUPS"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "TELEGRAM_WEBHOOK_URL": "https://x.example/h"}, "WEBHOOK_SECRET is required"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "TELEGRAM_WEBHOOK_URL": "http://x.example/h", "WEBHOOK_SECRET": "s"},
         "TELEGRAM_WEBHOOK_URL must be the public https:// URL"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "WEBHOOK_SECRET": "a b"}, "WEBHOOK_SECRET may only use"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "WEBHOOK_LISTEN": "8080"}, "WEBHOOK_LISTEN expected host:port"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "123,abc"}, "ALLOWED_USERS 'abc' is not a Telegram user id"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "ALLOWED_PATHS": "/nonexistent/root"}, "ALLOWED_PATHS root /nonexistent/root"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(env: dict[str, str], names: str, tmp_path: Path) -> None:
    result = _run_bot(env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert names in lines[0]
    assert "Traceback" not in result.stderr


def test_default_session_dir_is_named_after_the_distribution_but_keeps_an_existing_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import default_session_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_session_dir() == tmp_path / "tg-claude-code" / "sessions"
    (tmp_path / "claude-telegram-bot" / "sessions").mkdir(parents=True)  # sessions of an earlier install
    assert default_session_dir() == tmp_path / "claude-telegram-bot" / "sessions"


@pytest.mark.skipif(os.geteuid() != 0, reason="Claude Code refuses bypassPermissions only as root")
def test_a_permission_mode_claude_code_refuses_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    env = {"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "CLAUDE_PERMISSION_MODE": "bypassPermissions", "IS_SANDBOX": "",
           "CLAUDE_CONFINEMENT": "bubblewrap"}  # no user of its own: Claude Code runs as root in the box
    result = _run_bot(env, tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "CLAUDE_PERMISSION_MODE bypassPermissions cannot be used here" in line and "IS_SANDBOX=1" in line
    assert _run_bot({**env, "IS_SANDBOX": "1", "TELEGRAM_API_URL": "http://127.0.0.1:9", "SESSION_DIR": str(tmp_path / "s"),
                     "ALLOWED_PATHS": "/nonexistent"}, tmp_path).stderr.count("CLAUDE_PERMISSION_MODE") == 0
