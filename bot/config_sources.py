"""Where each setting comes from, and the one sentence a bad setting is said in.

The bot, `doctor`, `identity` and `notify` read the same sources in the same order: the
environment first, then the configuration file (TG_CLAUDE_CODE_CONFIG, else ~/.config/tg-claude-code/
config.env, over a `.env` in the directory the bot starts in). Claude Code's own settings
(ANTHROPIC_*, CLAUDE_CODE_*) may sit in that file too: they are handed on to the CLI's environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

# Claude Code's settings a configuration file may hold for it: credentials, base URL, provider switches.
CLAUDE_PREFIXES = ("ANTHROPIC_", "CLAUDE_CODE_")
SECRET_MARKERS = ("KEY", "TOKEN", "SECRET")

# The unfilled values of .env.example: a file still holding one was copied, not filled in.
PLACEHOLDERS = {
    "TELEGRAM_BOT_TOKEN": ("123456:ABC-your-token-from-BotFather",),
    "ALLOWED_USERS": ("123456789",),
    "WEBHOOK_SECRET": ("a-long-random-string",),
    "TRANSCRIBE_API_KEY": ("sk-...",),
    "TELEGRAM_WEBHOOK_URL": ("https://your-host.example/telegram/hook",),
    "WEBAPP_URL": ("https://your-host.example/review/", "https://your-host.example/review"),
    "WEBAPP_CERT": ("/etc/ssl/your-host.pem",),
    "WEBAPP_KEY": ("/etc/ssl/your-host.key",),
}


def read_file(path: Path) -> dict[str, str]:
    """The settings a dotenv file holds (names upper-cased, as pydantic-settings matches them)."""
    try:
        values = dotenv_values(path)
    except OSError:
        return {}
    return {name.upper(): value for name, value in values.items() if value is not None}


def file_values(files: Iterable[Path]) -> dict[str, tuple[str, Path]]:
    """Each setting found in `files` (lowest priority first) with the file it comes from."""
    found: dict[str, tuple[str, Path]] = {}
    for path in files:
        if path.is_file():
            for name, value in read_file(path).items():
                found[name] = (value, path.resolve())
    return found


def origin(name: str, files: Iterable[Path], environ: Mapping[str, str] | None = None) -> str | None:
    """Where setting `name` was read from: "the environment", a file's path, or None when unset."""
    environ = os.environ if environ is None else environ
    if any(key.upper() == name for key in environ):
        return "the environment"
    entry = file_values(files).get(name)
    return str(entry[1]) if entry else None


def claude_settings(files: Iterable[Path], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Claude Code's settings from the files that the environment does not already set (it wins)."""
    environ = os.environ if environ is None else environ
    return {
        name: value
        for name, (value, _) in file_values(files).items()
        if name.startswith(CLAUDE_PREFIXES) and value.strip() and name not in environ
    }


def export_claude_settings(files: Iterable[Path], environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Put Claude Code's settings from the files into `environ` (the CLI inherits it); what was added."""
    environ = os.environ if environ is None else environ
    added = claude_settings(files, environ)
    environ.update(added)
    return added


def secret_values(values: Mapping[str, str]) -> list[str]:
    """The values among `values` that must never reach a log (keys, tokens)."""
    return [value for name, value in values.items() if any(mark in name for mark in SECRET_MARKERS) and len(value) >= 8]


def is_placeholder(name: str, value: str) -> bool:
    return value.strip() in PLACEHOLDERS.get(name, ())


def _problem(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    given = error.get("input")
    shown = repr(given) if isinstance(given, str) else str(given)
    if kind == "missing":
        return "is not set"
    if kind in ("too_short", "string_too_short"):
        return "is empty"
    if kind == "int_parsing":
        return f"must be a whole number, not {shown}"
    if kind == "float_parsing":
        return f"must be a number, not {shown}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most", "less_than": "less than"}[kind]
        limit = next(iter(ctx.values()), "?")
        return f"must be {bound} {limit}, not {given}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '?')}, not {shown}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return f"is not valid ({str(error['msg']).lower()})"


def file_to_edit(files: list[Path]) -> Path:
    """The configuration file a person should edit: the one read last (highest priority), else the per-user one."""
    existing = [path for path in files if path.is_file()]
    return (existing[-1] if existing else files[-1]).expanduser().resolve()


def sentence(error: Mapping[str, Any], files: list[Path], environ: Mapping[str, str] | None = None) -> str:
    """One plain sentence for one pydantic error of the settings, naming the setting and its source."""
    problem = _problem(error)
    if error["loc"]:
        name = str(error["loc"][0]).upper()
        head = f"{name} {problem}"
    else:  # a check across settings names its setting first
        name, head = problem.split(" ", 1)[0], problem
        if not name.isupper():
            return head
    return f"{head} {source_clause(name, files, environ)}"


def source_clause(name: str, files: list[Path], environ: Mapping[str, str] | None = None) -> str:
    """"(from …)" naming where `name` was read, or, when it is unset, the file to set it in."""
    found = origin(name, files, environ)
    if found is None:
        return f"(set it in {file_to_edit(files)}, or run `tg-claude-code init`)"
    return f"(from {found})"
