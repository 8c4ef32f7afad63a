"""Settings from the environment and a configuration file.

The file is the one named by TG_CLAUDE_CODE_CONFIG, else `config.env` in the per-user
configuration directory (~/.config/tg-claude-code/), plus a `.env` in the directory the bot
starts in (the older set-up); the start-up layout check refuses any of them inside a workspace.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.claude.cli_limits import refused_modes
from bot.security.layout import layout_problem
from bot.sessions.keys import ChatKey
from bot.util.memory import available_memory, live_clients_for

PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions"]

DEFAULT_API_URL = "https://api.telegram.org"
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
CONFIG_ENV = "TG_CLAUDE_CODE_CONFIG"  # names the configuration file, instead of the per-user one
GROUP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # group names become file names


APP_NAME = "tg-claude-code"  # the distribution, the console script and the per-user data directory
OLD_APP_NAME = "claude-telegram-bot"  # the name before 0.1.0 was published (taken on PyPI)


def default_session_dir() -> Path:
    # A per-user data directory, not /tmp: sessions must survive a reboot. An install that
    # already has sessions under the old name keeps them there rather than starting over.
    old = Path(platformdirs.user_data_dir(OLD_APP_NAME)) / "sessions"
    if old.is_dir():
        return old
    return Path(platformdirs.user_data_dir(APP_NAME)) / "sessions"


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.env"


def config_files() -> list[Path]:
    """The configuration files settings are read from, lowest priority first (the environment wins over all)."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return [Path(explicit).expanduser()]
    return [Path(".env"), user_config_file()]


def existing_config_files() -> list[Path]:
    return [path.resolve() for path in config_files() if path.is_file()]


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
    # Groups (and channels) served; empty: any group an allowed user writes in. Private chats of ALLOWED_USERS always.
    allowed_chats: Annotated[list[int], NoDecode] = Field(default_factory=list)
    claude_working_dir: Path = Field(default_factory=Path.cwd)
    allowed_paths: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    session_dir: Path = Field(default_factory=default_session_dir)
    max_concurrent_queries: int = Field(default=3, ge=1, le=100)
    max_queued_per_chat: int = Field(default=20, ge=1, le=1000)
    # Connected Claude Code CLIs kept warm (~250 MB each): at most this many, idle ones closed after a
    # while. Unset (0 is never valid as a setting): from the memory available at start.
    max_live_clients: int = Field(default=0, ge=1, le=100, validate_default=False)
    _live_clients_origin: str = PrivateAttr(default="set")
    client_idle_seconds: float = Field(default=600.0, gt=0)
    idle_session_cleanup_ms: int = Field(default=24 * 3600 * 1000, ge=0)
    claude_permission_mode: PermissionMode = "default"
    claude_model: str | None = None
    approval_timeout_seconds: float = Field(default=600, gt=0)
    max_update_age_seconds: float = Field(default=3600, gt=0)
    # On SIGTERM, running turns get this long to finish before they are cut short (and carried on after the start).
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    max_upload_mb: int = Field(default=20, ge=1, le=2000)
    # Private chats see a turn as it is written, as a draft (Bot API 9.5) with Telegram's own stop
    # button; off: a progress message, as in groups.
    telegram_drafts: bool = True
    # Shared sessions declared by the operator: group name -> chat keys.
    session_chat_groups: Annotated[dict[str, list[ChatKey]], NoDecode] = Field(default_factory=dict)
    link_code_ttl_seconds: float = Field(default=600, gt=0)
    # Daily spending limits (UTC days), both optional: reached → new turns are refused until midnight UTC.
    max_cost_per_day_usd: float | None = Field(default=None, ge=0)
    max_chat_cost_per_day_usd: float | None = Field(default=None, ge=0)
    # Webhook mode (behind a reverse proxy) instead of polling: the public HTTPS URL Telegram posts
    # to (its path is the path served), where to listen, and the secret Telegram sends along.
    telegram_webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1:8080"
    webhook_secret: str | None = None
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

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip()
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("expected an http(s) URL such as https://api.telegram.org")
        return value

    @field_validator("allowed_users", mode="before")
    @classmethod
    def _users(cls, value: object) -> object:
        items = _split_csv(value)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, str) and not item.lstrip("-").isdigit():
                raise ValueError(f"{item!r} is not a Telegram user id (a number such as 123456789)")
        return items

    @field_validator("claude_permission_mode")
    @classmethod
    def _mode_allowed(cls, value: str) -> str:
        reason = refused_modes().get(value)
        if reason:
            raise ValueError(f"{value} cannot be used here: {reason}")
        return value

    @field_validator("allowed_chats", mode="before")
    @classmethod
    def _chats(cls, value: object) -> object:
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

    @field_validator("telegram_webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return value or None

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme != "https" or not parts.hostname:
                raise ValueError("must be the public https:// URL Telegram posts updates to")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
            raise ValueError("expected host:port, for example 127.0.0.1:8080")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is not None and not WEBHOOK_SECRET.match(value):
            raise ValueError("may only use letters, digits, '_' and '-' (1 to 256 characters), as Telegram requires")
        return value

    @property
    def webhook_address(self) -> tuple[str, int]:
        host, _, port = self.webhook_listen.rpartition(":")
        return host.strip("[]"), int(port)

    @model_validator(mode="after")
    def _live_clients(self) -> "Settings":
        if self.max_live_clients == 0:  # not set: what the machine can hold
            available = available_memory()
            self.max_live_clients = live_clients_for(available)
            shown = f"{available / 2**30:.1f} GB" if available is not None else "unknown memory"
            self._live_clients_origin = f"from {shown} available"
        return self

    @property
    def live_clients_origin(self) -> str:
        """Why MAX_LIVE_CLIENTS is what it is: "set", or "from 3.2 GB available"."""
        return self._live_clients_origin

    @model_validator(mode="after")
    def _resolve_paths(self) -> "Settings":
        if self.telegram_webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL: without it anyone could post updates")
        self.claude_working_dir = self.claude_working_dir.expanduser().resolve()
        if not self.claude_working_dir.is_dir():
            raise ValueError(f"CLAUDE_WORKING_DIR {self.claude_working_dir} is not a directory")
        roots = self.allowed_paths or [self.claude_working_dir]
        self.allowed_paths = [p.expanduser().resolve() for p in roots]
        for root in self.allowed_paths:
            if not root.is_dir():
                raise ValueError(f"ALLOWED_PATHS root {root} is not an existing directory")
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


def describe_error(exc: ValueError) -> str:
    """One line naming the bad setting."""
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        message = "is required" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
        if error["loc"]:  # cross-field checks name their setting in the message itself
            message = f"{str(error['loc'][0]).upper()} {message}"
        return message
    return str(exc)  # e.g. malformed JSON in a setting


def config_error(exc: ValueError) -> str:
    return f"config error: {describe_error(exc)}"


def load_settings() -> Settings:
    """Load settings or exit with status 2 and one line naming the bad setting."""
    explicit = os.environ.get(CONFIG_ENV)
    try:
        if explicit and not Path(explicit).expanduser().is_file():
            raise ValueError(f"{CONFIG_ENV} names {explicit}, which is not a file")
        settings = Settings(_env_file=config_files())  # type: ignore[call-arg]
        problem = layout_problem(
            working_dir=settings.claude_working_dir,
            allowed_paths=settings.allowed_paths,
            session_dir=settings.session_dir,
            config_files=existing_config_files(),
        )
        if problem is None:
            return settings
        print(f"config error: {problem}", file=sys.stderr)
    except ValueError as exc:  # ValidationError included
        print(config_error(exc), file=sys.stderr)
    raise SystemExit(2)
