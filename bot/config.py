"""Settings from the environment (and a `.env` file if present)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.sessions.keys import ChatKey

PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions"]

DEFAULT_API_URL = "https://api.telegram.org"
GROUP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # group names become file names


def default_session_dir() -> Path:
    # A per-user data directory, not /tmp: sessions must survive a reboot.
    return Path(platformdirs.user_data_dir("claude-telegram-bot")) / "sessions"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class OperatorSettings(BaseSettings):
    """What every operator command reads: SESSION_DIR (environment or `.env`); nothing else is required."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")
    session_dir: Path = Field(default_factory=default_session_dir)

    @field_validator("session_dir")
    @classmethod
    def _resolve(cls, value: Path) -> Path:
        return value.expanduser().resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str = Field(min_length=1)
    allowed_users: Annotated[list[int], NoDecode] = Field(min_length=1)
    telegram_api_url: str = DEFAULT_API_URL
    claude_working_dir: Path = Field(default_factory=Path.cwd)
    allowed_paths: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    session_dir: Path = Field(default_factory=default_session_dir)
    max_concurrent_queries: int = Field(default=3, ge=1, le=100)
    # Connected Claude Code CLIs kept warm (~230 MB each): at most this many, idle ones closed after a while.
    max_live_clients: int = Field(default=8, ge=1, le=100)
    client_idle_seconds: float = Field(default=600.0, gt=0)
    idle_session_cleanup_ms: int = Field(default=24 * 3600 * 1000, ge=0)
    claude_permission_mode: PermissionMode = "default"
    claude_model: str | None = None
    approval_timeout_seconds: float = Field(default=600, gt=0)
    max_update_age_seconds: float = Field(default=3600, gt=0)
    max_upload_mb: int = Field(default=20, ge=1, le=2000)
    # Shared sessions declared by the operator: group name -> chat keys.
    session_chat_groups: Annotated[dict[str, list[ChatKey]], NoDecode] = Field(default_factory=dict)
    link_code_ttl_seconds: float = Field(default=600, gt=0)
    # Daily spending limits (UTC days), both optional: reached → new turns are refused until midnight UTC.
    max_cost_per_day_usd: float | None = Field(default=None, ge=0)
    max_chat_cost_per_day_usd: float | None = Field(default=None, ge=0)
    # Voice notes: an OpenAI-compatible transcription API (off when the base URL is unset).
    transcribe_base_url: str | None = None
    transcribe_api_key: SecretStr | None = None
    transcribe_model: str = "whisper-1"
    transcribe_max_seconds: int = Field(default=1200, ge=1)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        value = value.strip()
        head, sep, tail = value.partition(":")
        if not (sep and head.isdigit() and tail):
            raise ValueError("expected the form 123456:ABC-DEF… from @BotFather")
        return value

    @field_validator("allowed_users", mode="before")
    @classmethod
    def _users(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("allowed_paths", mode="before")
    @classmethod
    def _paths(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("claude_model", "max_cost_per_day_usd", "max_chat_cost_per_day_usd", "transcribe_base_url", "transcribe_api_key", mode="before")
    @classmethod
    def _model(cls, value: object) -> object:
        return value or None

    @field_validator("session_chat_groups", mode="before")
    @classmethod
    def _groups(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return {}
        data = json.loads(value)
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise ValueError('expected a JSON object like {"team": ["-1001_2", "42"]}')
        for name in data:
            if not GROUP_NAME.match(name):
                raise ValueError(f"group name {name!r} may only use letters, digits, '_', '.' and '-'")
        return {name: [ChatKey.parse(str(item)) for item in keys] for name, keys in data.items()}

    @model_validator(mode="after")
    def _resolve_paths(self) -> "Settings":
        self.claude_working_dir = self.claude_working_dir.expanduser().resolve()
        if not self.claude_working_dir.is_dir():
            raise ValueError(f"CLAUDE_WORKING_DIR {self.claude_working_dir} is not a directory")
        roots = self.allowed_paths or [self.claude_working_dir]
        self.allowed_paths = [p.expanduser().resolve() for p in roots]
        self.session_dir = self.session_dir.expanduser().resolve()
        seen: dict[ChatKey, str] = {}
        for name, keys in self.session_chat_groups.items():
            for key in keys:
                if key in seen:
                    raise ValueError(f"chat {key} is in two groups ({seen[key]!r} and {name!r})")
                seen[key] = name
        return self

    @property
    def idle_cleanup_seconds(self) -> float:
        return self.idle_session_cleanup_ms / 1000


def config_error(exc: ValidationError) -> str:
    """One line naming the bad setting."""
    error = exc.errors()[0]
    message = "is required" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
    if error["loc"]:  # cross-field checks name their setting in the message itself
        message = f"{str(error['loc'][0]).upper()} {message}"
    return f"config error: {message}"


def load_settings() -> Settings:
    """Load settings or exit with status 2 and one line naming the bad setting."""
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        print(config_error(exc), file=sys.stderr)
    except ValueError as exc:  # e.g. malformed JSON in a setting
        print(f"config error: {exc}", file=sys.stderr)
    raise SystemExit(2)
