"""WEBAPP_* settings: an https URL (its path always ends in /), a certificate only with its key, and in
webhook mode a path of its own; the placeholders of .env.example are refused as such."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.config_sources import PLACEHOLDERS

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "ALLOWED_", "CLAUDE_", "SESSION_", "WEBHOOK_", "WEBAPP_", "TG_CLAUDE_CODE_")):
            monkeypatch.delenv(name)


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=[], telegram_bot_token="1:x", allowed_users=[1], claude_working_dir=tmp_path, session_dir=tmp_path / "s", **values
    )


def test_a_url_makes_the_mini_app_and_its_path_ends_in_a_slash(tmp_path: Path) -> None:
    assert _settings(tmp_path).webapp_url is None
    settings = _settings(tmp_path, webapp_url="https://host.example/review")
    assert settings.webapp_url == "https://host.example/review/" and settings.webapp_address == ("127.0.0.1", 8081)


@pytest.mark.parametrize(
    ("values", "sentence"),
    [
        ({"webapp_url": "http://host.example/review/"}, "must be the public https:// URL"),
        ({"webapp_url": "https://user:pw@host.example/review/"}, "must not hold a user name"),
        ({"webapp_url": "https://host.example/review/?x=1"}, "must be the public https:// URL"),
        ({"webapp_listen": "8081"}, "expected host:port"),
        ({"webapp_cert": "/etc/hostname"}, "WEBAPP_CERT and WEBAPP_KEY go together"),
        ({"webapp_cert": "/nonexistent.pem", "webapp_key": "/nonexistent.key"}, "WEBAPP_CERT /nonexistent.pem is not a file"),
        ({"webapp_cert": "/etc/hostname", "webapp_key": "/etc/hostname", "telegram_webhook_url": "https://h.example/hook",
          "webhook_secret": "s"}, "are for polling mode's own listener"),
        ({"webapp_url": "https://h.example/", "telegram_webhook_url": "https://h.example/hook", "webhook_secret": "s"},
         "WEBAPP_URL needs a path of its own"),
        ({"webapp_url": "https://h.example/hook/app/", "telegram_webhook_url": "https://h.example/hook", "webhook_secret": "s"},
         "WEBAPP_URL needs a path of its own"),
    ],
)
def test_unusable_settings_are_one_sentence(tmp_path: Path, values: dict[str, object], sentence: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(sentence)):
        _settings(tmp_path, **values)


def test_webhook_mode_takes_a_page_path_beside_the_hook(tmp_path: Path) -> None:
    settings = _settings(tmp_path, webapp_url="https://h.example/review/", telegram_webhook_url="https://h.example/hook", webhook_secret="s")
    assert settings.webapp_url == "https://h.example/review/"


def test_every_example_value_of_env_example_that_names_your_host_is_a_placeholder() -> None:
    example = (ROOT / ".env.example").read_text()
    for name, value in re.findall(r"^#? ?([A-Z_]+)=(\S*your\S*)", example, re.M):
        assert value in PLACEHOLDERS.get(name, ()), f"{name}={value} of .env.example is not in PLACEHOLDERS"
    for name in ("WEBAPP_URL", "WEBAPP_CERT", "WEBAPP_KEY"):
        value = re.search(rf"^# {name}=(\S+)", example, re.M).group(1)  # type: ignore[union-attr]
        with pytest.raises(ValidationError, match=f"{name} is still the placeholder of .env.example"):
            Settings(_env_file=[], telegram_bot_token="1:x", allowed_users=[1], **{name.lower(): value})  # type: ignore[arg-type]
