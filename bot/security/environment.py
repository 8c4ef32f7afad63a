"""The environment Claude Code inherits: the bot's own settings removed.

The SDK starts the CLI with `os.environ` merged under `ClaudeAgentOptions.env`, so a setting
left in the bot's environment reaches the CLI and every Bash command Claude runs (`env` would
show the bot token). The bot reads its settings once at start and then removes them from its
own environment; what Claude Code needs (its credentials, PATH, HOME, locale, proxies,
IS_SANDBOX, CLAUDE_CODE_*) stays.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping

# Families of the bot's settings, present and future (a transcription key, a webhook secret…).
BOT_PREFIXES = ("TELEGRAM_", "ALLOWED_", "SESSION_", "TRANSCRIBE_", "WEBHOOK_", "TG_CLAUDE_CODE_")
EXTRA_NAMES = ("LOG_LEVEL", "CREDENTIALS_DIRECTORY")  # systemd's LoadCredential= files: the bot's secrets


def is_bot_setting(name: str, settings_names: Iterable[str]) -> bool:
    upper = name.upper()  # pydantic-settings reads names case-insensitively
    return upper.startswith(BOT_PREFIXES) or upper in {n.upper() for n in settings_names} or upper in EXTRA_NAMES


def bot_setting_names() -> set[str]:
    """Every variable name the bot's settings classes read."""
    from bot.config import Settings

    return {name.upper() for name in Settings.model_fields}


def remove_bot_settings(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Delete the bot's settings from `environ` (the process environment by default); the names removed."""
    environ = os.environ if environ is None else environ
    names = bot_setting_names()
    removed = [key for key in list(environ) if is_bot_setting(key, names)]
    for key in removed:
        del environ[key]  # os.environ also unsets it for every child process
    return removed
