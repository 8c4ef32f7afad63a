"""Start-up layout checks and the environment Claude Code inherits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.security.environment import remove_bot_settings
from bot.security.layout import layout_problem

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def places(tmp_path: Path) -> dict[str, Path]:
    names = ["work", "other", "sessions", "config", "install"]
    paths = {name: tmp_path / name for name in names}
    for path in paths.values():
        path.mkdir()
    return paths


def _problem(places: dict[str, Path], **changes: object) -> str | None:
    arguments: dict[str, object] = dict(
        working_dir=places["work"],
        allowed_paths=[places["work"], places["other"]],
        session_dir=places["sessions"],
        config_files=[places["config"] / "config.env"],
        installation=[("the bot's installation", places["install"])],
    )
    arguments.update(changes)
    return layout_problem(**arguments)  # type: ignore[arg-type]


def test_a_safe_layout_passes(places: dict[str, Path]) -> None:
    assert _problem(places) is None


@pytest.mark.parametrize(
    "change, words",
    [
        ({"working_dir": Path("/")}, "CLAUDE_WORKING_DIR / is not inside ALLOWED_PATHS"),
        ({"session_dir": "work/sessions"}, "SESSION_DIR"),
        ({"session_dir": "other"}, "SESSION_DIR"),
        ({"config_files": ["work/.env"]}, "the configuration file"),
        ({"config_files": ["other/deep/config.env"]}, "the configuration file"),
        ({"installation": [("the bot's virtual environment", "work/.venv")]}, "virtual environment"),
    ],
)
def test_unsafe_layouts_are_named(places: dict[str, Path], change: dict[str, object], words: str) -> None:
    base = places["work"].parent

    def place(value: object) -> object:
        if isinstance(value, str):
            return base / value
        if isinstance(value, list):
            return [(v[0], base / v[1]) if isinstance(v, tuple) else place(v) for v in value]
        return value

    problem = _problem(places, **{k: place(v) for k, v in change.items()})
    assert problem is not None and words in problem


def _run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ALLOWED_", "CLAUDE_", "SESSION_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot"], env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd, capture_output=True, text=True, timeout=60,
    )


def test_a_dotenv_in_the_default_working_dir_is_not_read(tmp_path: Path) -> None:
    # The old set-up: `.env` in the directory the bot starts in, which is also every chat's directory.
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=1:secret\nALLOWED_USERS=1\n")
    result = _run_bot({"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config")}, tmp_path)
    assert result.returncode == 2
    config = tmp_path / "home" / ".config" / "tg-claude-code" / "config.env"
    assert result.stderr.strip().splitlines() == [
        f"config error: the only configuration is {tmp_path / '.env'}, inside a workspace where Claude can write it, "
        f"so it is not read; put the settings in {config}: TELEGRAM_BOT_TOKEN is not set (set it in {config}, or run "
        "`tg-claude-code init`)"
    ]


def test_settings_come_from_the_user_config_file(tmp_path: Path) -> None:
    """A per-user configuration file outside the workspace is read; the layout check passes it."""
    work = tmp_path / "work"
    work.mkdir()
    config = tmp_path / "home" / ".config" / "tg-claude-code" / "config.env"
    config.parent.mkdir(parents=True)
    # Only the file names MAX_LIVE_CLIENTS: its refusal shows the file was read (and its layout passed).
    config.write_text(f"TELEGRAM_BOT_TOKEN=1:x\nALLOWED_USERS=1\nCLAUDE_WORKING_DIR={work}\nMAX_LIVE_CLIENTS=0\n")
    result = _run_bot({"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config")}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"config error: MAX_LIVE_CLIENTS must be at least 1, not 0 (from {config})"]


def test_an_explicit_config_file_must_exist(tmp_path: Path) -> None:
    result = _run_bot({"TG_CLAUDE_CODE_CONFIG": str(tmp_path / "missing.env")}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"config error: TG_CLAUDE_CODE_CONFIG names {tmp_path / 'missing.env'}, which is not a file"]


def test_the_bot_settings_leave_the_environment() -> None:
    environ = {
        "TELEGRAM_BOT_TOKEN": "1:x", "telegram_api_url": "u", "ALLOWED_USERS": "1", "ALLOWED_CHATS": "2",
        "SESSION_DIR": "/s", "TRANSCRIBE_API_KEY": "k", "WEBHOOK_SECRET": "w", "CLAUDE_WORKING_DIR": "/w",
        "CLAUDE_PERMISSION_MODE": "plan", "MAX_UPLOAD_MB": "3", "TG_CLAUDE_CODE_CONFIG": "/c", "LOG_LEVEL": "DEBUG",
        "ANTHROPIC_API_KEY": "a", "CLAUDE_CODE_OAUTH_TOKEN": "o", "CLAUDE_CONFIG_DIR": "/h/.claude", "PATH": "/bin",
        "HOME": "/h", "LANG": "C.UTF-8", "HTTPS_PROXY": "p", "IS_SANDBOX": "1",
    }
    removed = remove_bot_settings(environ)
    assert sorted(environ) == sorted(
        ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CONFIG_DIR", "PATH", "HOME", "LANG", "HTTPS_PROXY", "IS_SANDBOX"]
    )
    assert "TELEGRAM_BOT_TOKEN" in removed and "telegram_api_url" in removed


def test_both_packages_of_the_bot_count_as_its_installation() -> None:
    from bot.security.layout import installation_dirs

    paths = [path for _, path in installation_dirs()]
    assert ROOT / "bot" in paths and ROOT / "handlers" in paths
