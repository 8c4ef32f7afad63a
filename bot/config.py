"""Settings from credential files, the environment and a configuration file.

The file is the one named by TG_CLAUDE_CODE_CONFIG, else `config.env` in the per-user
configuration directory (~/.config/tg-claude-code/), plus a `.env` in the directory the bot
starts in (the older set-up). A `.env` inside a workspace is Claude's to write, so it is never
read as the bot's configuration (one line says it was ignored); the start-up layout check
refuses any other configuration file inside a workspace. Under systemd, `LoadCredential=`
files in $CREDENTIALS_DIRECTORY (one per setting, named after it: TELEGRAM_BOT_TOKEN…) win over
everything else, so secrets need not be in the environment at all.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SecretsSettingsSource, SettingsConfigDict

from bot.claude.cli_limits import refused_modes
from bot.config_sources import PLACEHOLDERS, export_claude_settings, file_to_edit, is_placeholder, origin, sentence
from bot.security.layout import layout_problem
from bot.sessions.keys import ChatKey
from bot.util.memory import available_memory, live_clients_for

PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions"]

DEFAULT_API_URL = "https://api.telegram.org"
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
CONFIG_ENV = "TG_CLAUDE_CODE_CONFIG"  # names the configuration file, instead of the per-user one
GROUP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # group names become file names
CREDENTIALS_DIR = "CREDENTIALS_DIRECTORY"  # where systemd puts the files LoadCredential= names
DOTENV = Path(".env")
# Claude Code's own credentials in the bot's environment: redacted from the log like the bot's.
CLAUDE_SECRET = re.compile(r"^(ANTHROPIC|CLAUDE_CODE)_\w*(KEY|TOKEN|SECRET)\w*$")


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
    return [DOTENV, user_config_file()]


def existing_config_files() -> list[Path]:
    return [path.resolve() for path in config_files() if path.is_file()]


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secret_url_problem(value: str, carries: str) -> str | None:
    """Why a URL that carries a secret may not be used: plain http leaves this machine only over https."""
    parts = urlsplit(value)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        return f"must be an https:// URL (it carries {carries}); plain http:// is only for a loopback address such as 127.0.0.1"
    return None


class _CredentialSettings(BaseSettings):
    """Settings whose secrets may come from systemd credentials ($CREDENTIALS_DIRECTORY), above all else."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        credentials = os.environ.get(CREDENTIALS_DIR)
        if not credentials or not Path(credentials).is_dir():
            return init_settings, env_settings, dotenv_settings
        return init_settings, SecretsSettingsSource(settings_cls, secrets_dir=credentials), env_settings, dotenv_settings


class OperatorSettings(_CredentialSettings):
    """What every operator command reads: SESSION_DIR (environment or `.env`); nothing else is required."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")
    session_dir: Path = Field(default_factory=default_session_dir)

    @field_validator("session_dir")
    @classmethod
    def _resolve(cls, value: Path) -> Path:
        return value.expanduser().resolve()


class Settings(_CredentialSettings):
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
    # The review Mini App (bot/webapp/): the public https URL it is opened at (behind the user's proxy or
    # tunnel); unset, no Mini App. Served by the webhook server in webhook mode, else by its own listener,
    # over https directly when a certificate and its key are given.
    webapp_url: str | None = None
    webapp_listen: str = "127.0.0.1:8081"
    webapp_cert: Path | None = None
    webapp_key: Path | None = None
    # Voice notes: an OpenAI-compatible transcription API (off when the base URL is unset).
    transcribe_base_url: str | None = None
    transcribe_api_key: SecretStr | None = None
    transcribe_model: str = "whisper-1"
    transcribe_max_seconds: int = Field(default=1200, ge=1)
    # How Claude Code (and the bot's git in workspaces) is confined (bot/confine/): auto picks the strongest
    # that works here; bypassPermissions is refused where none holds unless ALLOW_UNCONFINED_BYPASS is true.
    claude_confinement: Literal["auto", "bubblewrap", "user", "user+bubblewrap", "none"] = "auto"
    claude_user: str = Field(default="tg-claude", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")  # when the bot is root
    claude_home: Path | None = None  # Claude Code's HOME in the box; default: CLAUDE_USER's home, or a data dir
    allow_unconfined_bypass: bool = False

    @model_validator(mode="before")
    @classmethod
    def _placeholders(cls, data: object) -> object:
        if isinstance(data, dict):
            for name in PLACEHOLDERS:
                value = data.get(name.lower())
                if isinstance(value, str) and is_placeholder(name, value):
                    raise ValueError(f"{name} is still the placeholder of .env.example; put your own value there")
        return data

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
        if problem := secret_url_problem(value, "the bot token"):
            raise ValueError(problem)
        return value

    @field_validator("transcribe_base_url")
    @classmethod
    def _transcribe_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http(s) URL such as https://api.openai.com/v1")
        if problem := secret_url_problem(value, "TRANSCRIBE_API_KEY"):
            raise ValueError(problem)
        return value

    @field_validator("allowed_users", mode="before")
    @classmethod
    def _users(cls, value: object) -> object:
        items = _split_csv(value)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, str) and not item.lstrip("-").isdigit():
                raise ValueError(f"{item!r} is not a Telegram user id (a number such as 123456789)")
        return items

    @model_validator(mode="after")
    def _mode_allowed(self) -> "Settings":
        # What the CLI refuses as root; whether a confinement holds is known only once it is tried (bot/__main__.py).
        own_user = self.claude_confinement in ("auto", "user", "user+bubblewrap")  # as root: Claude Code is not root
        reason = refused_modes(own_user=own_user).get(self.claude_permission_mode)
        if reason:
            raise ValueError(f"CLAUDE_PERMISSION_MODE {self.claude_permission_mode} cannot be used here: {reason}")
        return self

    @field_validator("allowed_chats", mode="before")
    @classmethod
    def _chats(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("allowed_paths", mode="before")
    @classmethod
    def _paths(cls, value: object) -> object:
        return _split_csv(value)

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

    @field_validator("webapp_url")
    @classmethod
    def _webapp_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be the public https:// URL the review page is opened at, such as https://your-host.example/review/")
        if parts.username or parts.password:
            raise ValueError("must not hold a user name or password")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _webapp(self) -> "Settings":
        if (self.webapp_cert is None) != (self.webapp_key is None):
            raise ValueError("WEBAPP_CERT and WEBAPP_KEY go together: the certificate and its private key")
        for name, path in (("WEBAPP_CERT", self.webapp_cert), ("WEBAPP_KEY", self.webapp_key)):
            if path is not None and not path.expanduser().is_file():
                raise ValueError(f"{name} {path} is not a file")
        if self.webapp_cert is not None and self.telegram_webhook_url:
            raise ValueError("WEBAPP_CERT and WEBAPP_KEY are for polling mode's own listener; in webhook mode your proxy serves https")
        if self.webapp_url and self.telegram_webhook_url:
            page = urlsplit(self.webapp_url).path
            hook = urlsplit(self.telegram_webhook_url).path or "/"
            if page == "/" or hook.startswith(page) or page.startswith(hook.rstrip("/") + "/"):
                raise ValueError(
                    "WEBAPP_URL needs a path of its own beside TELEGRAM_WEBHOOK_URL's in webhook mode (one server serves both), "
                    "such as https://your-host.example/review/"
                )
        return self

    @property
    def webapp_address(self) -> tuple[str, int]:
        host, _, port = self.webapp_listen.rpartition(":")
        return host.strip("[]"), int(port)

    @field_validator(
        "claude_model", "max_cost_per_day_usd", "max_chat_cost_per_day_usd", "transcribe_base_url", "transcribe_api_key",
        "telegram_webhook_url", "webhook_secret", "webapp_url", "webapp_cert", "webapp_key", mode="before",
    )
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

    @field_validator("webhook_listen", "webapp_listen")
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

    def secrets(self) -> list[str]:
        """Every secret the bot knows, for the log's redaction: its own and Claude Code's credentials."""
        found = [self.telegram_bot_token, self.webhook_secret or ""]
        if self.transcribe_api_key is not None:
            found.append(self.transcribe_api_key.get_secret_value())
        found += [value for name, value in os.environ.items() if CLAUDE_SECRET.match(name.upper())]
        return [value for value in found if value]


class ConfigProblem(ValueError):
    """A setting that cannot be used: one sentence naming it and where it came from."""


def describe_error(exc: ValueError, files: list[Path] | None = None) -> str:
    """One sentence naming the bad setting and where it came from."""
    if isinstance(exc, ValidationError):
        return sentence(exc.errors()[0], config_files() if files is None else files)
    return str(exc)  # e.g. malformed JSON in a setting


def config_error(exc: ValueError) -> str:
    return f"config error: {describe_error(exc)}"


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    files: list[Path]  # the configuration files read (resolved)
    note: str | None = None  # a `.env` ignored, and why


def _attempt(files: list[Path]) -> Settings | ValueError:
    try:
        return Settings(_env_file=files)  # type: ignore[call-arg]
    except ValueError as exc:  # ValidationError included
        return exc


def _workspaces(settings: Settings) -> list[Path]:
    return [*settings.allowed_paths, settings.claude_working_dir]


def read_settings() -> Loaded:
    """The settings, without a `.env` that lies in a workspace (judged by the roots both with and without
    it: the `.env` itself could move ALLOWED_PATHS away). ValueError: no usable configuration."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit and not Path(explicit).expanduser().is_file():
        raise ValueError(f"{CONFIG_ENV} names {explicit}, which is not a file")
    files = config_files()
    with_env = _attempt(files)
    if DOTENV not in files or not DOTENV.is_file():
        if isinstance(with_env, ValueError):
            raise with_env
        return Loaded(with_env, existing_config_files())
    others = [path for path in files if path != DOTENV]
    without = _attempt(others)
    places = {Path.cwd().resolve(), DOTENV.resolve()}
    roots = [root for view in (with_env, without) if isinstance(view, Settings) for root in _workspaces(view)]
    if not any(place == root or place.is_relative_to(root) for place in places for root in roots):
        if isinstance(with_env, ValueError):
            raise with_env
        return Loaded(with_env, existing_config_files())
    if isinstance(without, ValueError):
        raise ValueError(
            f"the only configuration is {DOTENV.resolve()}, inside a workspace where Claude can write it, so it is not "
            f"read; put the settings in {user_config_file()}: {describe_error(without, others)}"
        )
    note = f"note: {DOTENV.resolve()} lies inside a workspace, so it is not read as the bot's configuration"
    return Loaded(without, [path.resolve() for path in others if path.is_file()], note)


def operator_config_files() -> list[Path]:
    """The files operator commands read: config_files() without a `.env` the bot itself ignores."""
    files = config_files()
    if DOTENV not in files or not DOTENV.is_file():
        return files
    try:
        return read_settings().files
    except ValueError:  # no configuration the bot could start with: the files as they are
        return files


def checked_settings() -> Loaded:
    """What `run` and `doctor` both start from: read_settings, its layout checked, every failure one
    ConfigProblem sentence naming the setting and where it came from. Claude Code's settings found in
    the files read (ANTHROPIC_API_KEY…) are put into os.environ, which the CLI inherits."""
    try:
        loaded = read_settings()
    except ValidationError as exc:
        raise ConfigProblem(describe_error(exc, config_files())) from None
    except ValueError as exc:
        raise ConfigProblem(str(exc)) from None
    settings, files = loaded.settings, loaded.files
    problem = layout_problem(
        working_dir=settings.claude_working_dir,
        allowed_paths=settings.allowed_paths,
        session_dir=settings.session_dir,
        config_files=files,
    )
    if problem and origin("CLAUDE_WORKING_DIR", files) is None:  # the default (the start directory) is the fault
        edit = file_to_edit(files or config_files())
        if edit.is_relative_to(settings.claude_working_dir):
            edit = user_config_file()
        raise ConfigProblem(
            f"CLAUDE_WORKING_DIR is not set, so Claude would work in {settings.claude_working_dir} (the directory the "
            f"bot started in), where {problem.split('; ')[0]}; set CLAUDE_WORKING_DIR in {edit} to the directory Claude "
            "Code should work in (`tg-claude-code init` asks for it)"
        )
    if problem:
        raise ConfigProblem(problem)
    export_claude_settings(files)
    return loaded


def load_settings() -> Settings:
    """Load settings or exit with status 2 and one line naming the bad setting."""
    try:
        loaded = checked_settings()
    except ConfigProblem as exc:
        print(f"config error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if loaded.note:
        print(loaded.note, file=sys.stderr)
    return loaded.settings
