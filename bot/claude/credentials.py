"""Where Claude Code would find credentials: an API key or token in the environment, or a login."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

ENV_CREDENTIALS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
CLOUD_PROVIDERS = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY")


def claude_config_dir(environ: Mapping[str, str]) -> Path:
    configured = environ.get("CLAUDE_CONFIG_DIR")
    return Path(configured).expanduser() if configured else Path(environ.get("HOME") or Path.home()) / ".claude"


def find_credentials(environ: Mapping[str, str] | None = None) -> str | None:
    """Where the credentials are (a name, never the value), or None when Claude Code has none."""
    environ = os.environ if environ is None else environ
    for name in ENV_CREDENTIALS:
        if environ.get(name, "").strip():
            return name
    for name in CLOUD_PROVIDERS:
        if environ.get(name, "").strip() not in ("", "0", "false"):
            return name
    config = claude_config_dir(environ)
    login = config / ".credentials.json"
    try:
        if json.loads(login.read_text()):
            return f"the login in {login}"
    except (OSError, ValueError):
        pass
    try:
        if json.loads((config / "settings.json").read_text()).get("apiKeyHelper"):
            return f"apiKeyHelper in {config / 'settings.json'}"
    except (OSError, ValueError, AttributeError):
        pass
    return None


MISSING = (
    "no Claude credentials: run `tg-claude-code login` (a Claude subscription) as the user the bot runs as, "
    "or put ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN) in the configuration file"
)
