"""Environment for running the real Claude Code CLI against the Messages API stand-in.

``cli_env(home, base_url)`` returns the variables to merge into the environment of
the process that spawns the CLI (the bot process in e2e tests, or
``ClaudeAgentOptions(env=...)`` in unit tests).  What each one is for:

``HOME`` / ``CLAUDE_CONFIG_DIR`` / ``XDG_CONFIG_HOME`` / ``XDG_CACHE_HOME``
    A private home per run: the CLI writes ``~/.claude.json`` and ``~/.claude/``
    (sessions, projects/<cwd>/<session>.jsonl transcripts used by ``resume``,
    backups, plugin store).  Never the developer's real ``~/.claude``.
``ANTHROPIC_BASE_URL`` / ``ANTHROPIC_API_KEY``
    Talk to the stand-in with API-key auth (the key is only echoed as ``x-api-key``).
``IS_SANDBOX=1``
    As root the CLI refuses ``--permission-mode bypassPermissions`` without it.
``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1``
    Verified with strace (CLI 2.1.329): without it the CLI resolves
    ``api.anthropic.com`` through the system DNS resolver for non-API traffic even
    with telemetry off, sends ``HEAD /api/hello`` (a connectivity probe) to the
    stand-in on every start, and in SDK streaming mode asks the stand-in for a session
    title (an auxiliary structured-output request).  With it the CLI opens no socket
    except its connection to the stand-in and sends only the main requests; a
    ``-p`` run drops from ~0.68 s to ~0.58 s (median of 5) here.
``DISABLE_TELEMETRY=1`` / ``DISABLE_ERROR_REPORTING=1``
    Without them the CLI tries to ship telemetry events (failing offline, then
    spooling them to ``~/.claude/telemetry/1p_failed_events.*.json``) and error
    reports.  Covered by the variable above too; kept in case it is dropped.
``DISABLE_AUTOUPDATER=1`` / ``DISABLE_BUG_COMMAND=1`` / ``DISABLE_COST_WARNINGS=1``
    No update checks, no feedback / cost prompts (belt and braces: no observable
    effect in ``-p`` / SDK mode).
``CLAUDE_CODE_MAX_RETRIES``
    The CLI retries 500 / 529 / 429 and dropped streams itself: by default 10
    retries with exponential back-off and jitter (waits ~0.6, 1.2, 2.3, 4.7, 9.6,
    18, 34, 36, 37, 36 s: a permanently failing turn takes ~3 minutes).  With
    ``max_retries=1`` (the default here) it ends in an error result after 2
    requests and ~0.7 s, and a single transient failure (``fail_next(500)``) is still
    retried into a success.  ``max_retries=0``: no retry at all (values above 15 are
    clamped to 15).
``NO_PROXY``
    Never send the loopback traffic through a proxy the machine may define.
"""

from __future__ import annotations

import os
from pathlib import Path

import claude_agent_sdk

__all__ = ["CLI_ENV_UNSET", "CLI_PATH", "bundled_cli_path", "cli_env"]


def bundled_cli_path() -> Path:
    """The Claude Code CLI bundled in the claude-agent-sdk wheel."""
    return Path(claude_agent_sdk.__file__).resolve().parent / "_bundled" / "claude"


CLI_PATH: Path = bundled_cli_path()

# Variables that must NOT be inherited by a CLI that should talk to the stand-in
# (other auth methods / providers / model overrides win over ANTHROPIC_API_KEY or
# ANTHROPIC_BASE_URL).  A harness building a subprocess env should drop them.
CLI_ENV_UNSET: tuple[str, ...] = (
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "ANTHROPIC_CUSTOM_HEADERS",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    "CLAUDE_CODE_MAX_OUTPUT_TOKENS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
)


def cli_env(home: Path, base_url: str, *, max_retries: int = 1) -> dict[str, str]:
    """Environment variables for a CLI run against the stand-in at ``base_url``."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-test",
        "IS_SANDBOX": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_BUG_COMMAND": "1",
        "DISABLE_COST_WARNINGS": "1",
        "CLAUDE_CODE_MAX_RETRIES": str(max_retries),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def scrubbed_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` minus ``CLI_ENV_UNSET``, plus ``extra`` -- for a subprocess env."""
    env = {k: v for k, v in os.environ.items() if k not in CLI_ENV_UNSET}
    env.update(extra or {})
    return env
