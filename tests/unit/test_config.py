import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_bot(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ALLOWED_", "CLAUDE_", "SESSION_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot"], env={**clean, "PYTHONPATH": str(ROOT), **env}, cwd=tmp_path, capture_output=True, text=True, timeout=60
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
    ],
)
def test_bad_configuration_exits_2_with_one_line(env: dict[str, str], names: str, tmp_path: Path) -> None:
    result = _run_bot(env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert names in lines[0]
    assert "Traceback" not in result.stderr
