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
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "TELEGRAM_API_URL": "http://api.example.com"},
         "TELEGRAM_API_URL must be an https:// URL (it carries the bot token)"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "ALLOWED_USERS": "1", "TRANSCRIBE_BASE_URL": "http://10.0.0.5/v1"},
         "TRANSCRIBE_BASE_URL must be an https:// URL (it carries TRANSCRIBE_API_KEY)"),
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


@pytest.fixture()
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No setting from the outside world: no bot variables, an empty per-user config directory."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "ALLOWED_", "CLAUDE_", "SESSION_", "TRANSCRIBE_", "WEBHOOK_", "WEBAPP_", "TG_CLAUDE_CODE_", "MAX_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:from-the-environment")
    monkeypatch.setenv("ALLOWED_USERS", "1")
    monkeypatch.setenv("SESSION_DIR", str(tmp_path / "sessions"))
    work = tmp_path / "work"
    work.mkdir()
    return work


def test_loopback_http_urls_are_allowed_for_the_stand_ins(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import Settings

    for url in ("http://127.0.0.1:9", "http://[::1]:8081", "http://localhost:1", "https://api.telegram.org"):
        monkeypatch.setenv("TELEGRAM_API_URL", url)
        monkeypatch.setenv("TRANSCRIBE_BASE_URL", url + "/v1")
        settings = Settings(_env_file=[], claude_working_dir=clean_env)  # type: ignore[call-arg]
        assert settings.telegram_api_url == url and settings.transcribe_base_url == url + "/v1"


def test_systemd_credentials_win_over_the_environment_and_leave_it_before_claude_starts(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import Settings
    from bot.security.environment import remove_bot_settings

    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "TELEGRAM_BOT_TOKEN").write_text("42:from-a-credential\n")
    (credentials / "transcribe_api_key").write_text("sk-transcribe-secret")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    settings = Settings(_env_file=[], claude_working_dir=clean_env)  # type: ignore[call-arg]
    assert settings.telegram_bot_token == "42:from-a-credential"
    assert settings.transcribe_api_key is not None and settings.transcribe_api_key.get_secret_value() == "sk-transcribe-secret"
    environ = {"CREDENTIALS_DIRECTORY": str(credentials), "PATH": "/bin"}
    assert remove_bot_settings(environ) == ["CREDENTIALS_DIRECTORY"] and environ == {"PATH": "/bin"}


def test_every_secret_the_bot_knows_is_named_for_the_log_redaction(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import Settings

    monkeypatch.setenv("TRANSCRIBE_API_KEY", "sk-transcribe")
    monkeypatch.setenv("WEBHOOK_SECRET", "hook-secret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-key")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "ant-auth-token")
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "oauth-token")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
    settings = Settings(_env_file=[], claude_working_dir=clean_env)  # type: ignore[call-arg]
    assert sorted(settings.secrets()) == sorted(
        ["1:from-the-environment", "sk-transcribe", "hook-secret", "sk-ant-key", "ant-auth-token", "oauth-token"]
    )


def _dotenv(directory: Path, text: str) -> Path:
    path = directory / ".env"
    path.write_text(text)
    return path


def test_a_dotenv_in_the_workspace_is_ignored_and_said_once(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import read_settings

    dotenv = _dotenv(clean_env, "TELEGRAM_BOT_TOKEN=nonsense\nMAX_QUEUED_PER_CHAT=7\nALLOWED_PATHS=/\n")
    monkeypatch.chdir(clean_env)  # started in the workspace, which is also the default working directory
    loaded = read_settings()
    assert loaded.note == f"note: {dotenv} lies inside a workspace, so it is not read as the bot's configuration"
    assert loaded.settings.max_queued_per_chat == 20 and loaded.settings.allowed_paths == [clean_env]
    assert loaded.files == []


def test_a_dotenv_that_moves_the_roots_away_from_itself_is_still_ignored(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import read_settings

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The real configuration leaves the working directory to the start directory; read with the `.env`,
    # the workspace would be somewhere else and the `.env` outside it.
    monkeypatch.chdir(clean_env)
    _dotenv(clean_env, f"ALLOWED_PATHS={elsewhere}\nCLAUDE_WORKING_DIR={elsewhere}\nMAX_QUEUED_PER_CHAT=7\n")
    loaded = read_settings()
    assert loaded.note is not None and loaded.settings.claude_working_dir == clean_env
    assert loaded.settings.max_queued_per_chat == 20


def test_a_dotenv_outside_every_workspace_is_still_read(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import read_settings

    checkout = tmp_path / "bot-checkout"
    checkout.mkdir()
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    dotenv = _dotenv(checkout, f"TELEGRAM_BOT_TOKEN=5:from-dotenv\nCLAUDE_WORKING_DIR={clean_env}\n")
    monkeypatch.chdir(checkout)
    loaded = read_settings()
    assert loaded.note is None and loaded.settings.telegram_bot_token == "5:from-dotenv" and loaded.files == [dotenv]


def test_a_dotenv_in_the_workspace_that_is_the_only_configuration_is_one_sentence(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import read_settings

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    dotenv = _dotenv(clean_env, "TELEGRAM_BOT_TOKEN=5:from-dotenv\n")
    monkeypatch.chdir(clean_env)
    with pytest.raises(ValueError, match="^the only configuration is .*, inside a workspace where Claude can write it") as caught:
        read_settings()
    assert str(dotenv) in str(caught.value) and "TELEGRAM_BOT_TOKEN is not set" in str(caught.value)


def test_operator_commands_ignore_the_same_dotenv_the_bot_ignores(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import operator_config_files
    from bot.turns.mirror import MirrorSettings

    _dotenv(clean_env, f"SESSION_DIR={clean_env / 'forged-sessions'}\n")
    monkeypatch.delenv("SESSION_DIR")
    monkeypatch.chdir(clean_env)
    assert operator_config_files() == []
    settings = MirrorSettings(_env_file=operator_config_files())  # type: ignore[call-arg]
    assert not settings.session_dir.is_relative_to(clean_env)
    monkeypatch.chdir(tmp_path)  # outside every workspace: no `.env` there, the default files
    assert [path.name for path in operator_config_files()] == [".env", "config.env"]
