import logging
from pathlib import Path

import pytest

from bot.config import Settings, describe_error
from bot.config_sources import claude_settings, export_claude_settings, origin, secret_values
from bot.setup.envfile import updated, write_settings
from bot.telegram.poll_log import CONFLICT, PollingLog
from bot.util.oplog import cost, seconds


def _error(files: list[Path], environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    for name in list(__import__("os").environ):
        if name.startswith(("TELEGRAM_", "ALLOWED_", "CLAUDE_", "MAX_")):
            monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as caught:
        Settings(_env_file=files)  # type: ignore[call-arg]
    return describe_error(caught.value, files)


def test_a_bad_setting_is_one_sentence_naming_it_and_the_file_it_came_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.env"
    config.write_text(f"TELEGRAM_BOT_TOKEN=1:x\nALLOWED_USERS=\nCLAUDE_WORKING_DIR={tmp_path}\n")
    assert _error([config], {}, monkeypatch) == f"ALLOWED_USERS is empty (from {config})"
    config.write_text("TELEGRAM_BOT_TOKEN=1:x\n")
    assert _error([config], {}, monkeypatch) == f"ALLOWED_USERS is not set (set it in {config}, or run `tg-claude-code init`)"
    assert _error([config], {"ALLOWED_USERS": "1", "MAX_QUEUED_PER_CHAT": "0"}, monkeypatch) == (
        "MAX_QUEUED_PER_CHAT must be at least 1, not 0 (from the environment)"
    )


def test_the_placeholders_of_env_example_are_refused_as_placeholders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[3] / ".env.example"
    sentence = _error([example], {}, monkeypatch)
    assert sentence.startswith("TELEGRAM_BOT_TOKEN is still the placeholder of .env.example"), sentence
    assert str(example) in sentence
    config = tmp_path / "c.env"
    config.write_text(example.read_text().replace("123456:ABC-your-token-from-BotFather", "1:real"))
    assert _error([config], {}, monkeypatch).startswith("ALLOWED_USERS is still the placeholder of .env.example")


def test_claudes_settings_in_the_file_reach_the_environment_unless_it_sets_them(tmp_path: Path) -> None:
    config = tmp_path / "config.env"
    config.write_text("ANTHROPIC_API_KEY=sk-ant-file-key\nCLAUDE_CODE_OAUTH_TOKEN=\nTELEGRAM_BOT_TOKEN=1:x\nANTHROPIC_BASE_URL=http://a\n")
    environ = {"ANTHROPIC_BASE_URL": "http://env"}
    assert claude_settings([config], environ) == {"ANTHROPIC_API_KEY": "sk-ant-file-key"}
    export_claude_settings([config], environ)
    assert environ == {"ANTHROPIC_BASE_URL": "http://env", "ANTHROPIC_API_KEY": "sk-ant-file-key"}
    assert secret_values({"ANTHROPIC_API_KEY": "sk-ant-file-key", "ANTHROPIC_BASE_URL": "http://a"}) == ["sk-ant-file-key"]
    assert origin("ANTHROPIC_API_KEY", [config], {}) == str(config.resolve())
    assert origin("ANTHROPIC_BASE_URL", [config], environ) == "the environment"


def test_init_edits_the_file_in_place_keeping_every_other_line(tmp_path: Path) -> None:
    text = "# my notes\nTELEGRAM_BOT_TOKEN=1:old\nMAX_UPLOAD_MB=50\nexport ALLOWED_USERS=5\nALLOWED_USERS=6\n"
    assert updated(text, {"TELEGRAM_BOT_TOKEN": "2:new", "ALLOWED_USERS": "5,7", "CLAUDE_WORKING_DIR": "/w s"}) == (
        "# my notes\nTELEGRAM_BOT_TOKEN=2:new\nMAX_UPLOAD_MB=50\nALLOWED_USERS=5,7\nCLAUDE_WORKING_DIR='/w s'\n"
    )
    path = tmp_path / "dir" / "config.env"
    write_settings(path, {"A_KEY": "it's"})
    assert (path.stat().st_mode & 0o777) == 0o600 and (path.parent.stat().st_mode & 0o777) == 0o700
    from bot.config_sources import read_file

    assert read_file(path) == {"A_KEY": "it's"}


def test_a_conflict_is_one_line_naming_the_cause_at_most_once_a_minute() -> None:
    now = [0.0]
    polling = PollingLog(clock=lambda: now[0])

    def record(text: str, name: str = "aiogram.dispatcher") -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, text, None, None)

    conflict = "Failed to fetch updates - TelegramConflictError: Telegram server says - Conflict: terminated by other getUpdates request"
    first = record(conflict)
    assert polling.filter(first) and first.getMessage() == CONFLICT and first.levelname == "WARNING"
    assert not polling.filter(record("Sleep for 1.000000 seconds and try again... (tryings = 0, bot id = 1)"))
    assert not polling.filter(record("Connection established (tryings = 1, bot id = 1)"))
    now[0] = 59
    assert not polling.filter(record(conflict))
    now[0] = 61
    assert polling.filter(record(conflict))
    assert polling.filter(record("Failed to fetch updates - TelegramNetworkError: down"))
    assert polling.filter(record("Sleep for 1.000000 seconds and try again... (tryings = 0, bot id = 1)"))


def test_operator_numbers_read_right() -> None:
    assert seconds(3.14159) == "3.1 s" and seconds(42.4) == "42 s"
    assert cost(0.01234) == "$0.0123" and cost(None) == "cost unknown"

