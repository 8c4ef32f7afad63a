"""The set-up checks of `doctor`, as data: each takes what was gathered once and returns a verdict.

Nothing here may print or return the bot token; the report is scrubbed of it once more anyway.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from bot.claude.credentials import find_credentials
from bot.claude.launcher import default_cli
from bot.config import Settings, user_config_file
from bot.util.botapi import ApiUnreachable, BotIdentity, TokenRefused
from bot.util.paths import is_inside

if TYPE_CHECKING:
    from bot.confine import Box


class Status(Enum):
    PASS = "ok"
    FAIL = "FAIL"
    SKIP = "skip"  # could not be checked because an earlier check failed; not a pass


@dataclass(frozen=True)
class Verdict:
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Facts:
    """Everything the checks look at, gathered once (the getMe call included)."""

    settings: Settings | None
    settings_error: str | None
    identity: BotIdentity | None
    api_error: Exception | None  # TokenRefused or ApiUnreachable
    environ: Mapping[str, str]
    euid: int
    cwd: Path
    config_file: Path  # the configuration file read (or to create): every fix names it
    box: Box | None = None  # the box Claude Code would run in (bot/confine/), as the start opens it
    box_error: str | None = None  # why the confinement asked for cannot hold


def _pass(detail: str) -> Verdict:
    return Verdict(Status.PASS, detail)


def _fail(detail: str, fix: str) -> Verdict:
    return Verdict(Status.FAIL, detail, fix)


SKIPPED = Verdict(Status.SKIP, "not checked: the settings did not load")


def settings_loaded(f: Facts) -> Verdict:
    if f.settings is None:
        return _fail(f"config error: {f.settings_error}", f"edit {f.config_file} (README, Configuration), or run `make init`")
    return _pass(f"{len(f.settings.allowed_users)} allowed user(s), permission mode {f.settings.claude_permission_mode}")


def bot_api_reachable(f: Facts) -> Verdict:
    if f.settings is None:
        return SKIPPED
    url = f.settings.telegram_api_url
    if isinstance(f.api_error, ApiUnreachable):
        return _fail(f"{url} is not reachable: {f.api_error}", f"check the network, a proxy or firewall, and TELEGRAM_API_URL in {f.config_file}")
    return _pass(f"{url} answers")


def token_accepted(f: Facts) -> Verdict:
    if f.settings is None:
        return SKIPPED
    if isinstance(f.api_error, TokenRefused):
        return _fail(
            f"TELEGRAM_BOT_TOKEN: {f.api_error}",
            f"copy the token again from @BotFather (/mybots → your bot → API Token) into TELEGRAM_BOT_TOKEN in {f.config_file}",
        )
    if f.identity is None:
        return Verdict(Status.SKIP, "not checked: the Bot API is not reachable")
    return _pass(f"accepted: the bot is @{f.identity.username}")


def privacy_mode(f: Facts) -> Verdict:
    if f.identity is None:
        return Verdict(Status.SKIP, "not checked: no answer to getMe")
    if f.identity.can_read_all_group_messages:
        return _pass("off: in groups the bot reads every message")
    return _pass(
        "on: in groups the bot sees only commands, replies to it and mentions "
        "(@BotFather → /setprivacy → Disable to let it read every message)"
    )


def topics_in_private_chats(f: Facts) -> Verdict:
    if f.identity is None:
        return Verdict(Status.SKIP, "not checked: no answer to getMe")
    if f.identity.has_topics_enabled:
        return _pass("enabled: each topic of a private chat is its own project")
    return _pass("not enabled (optional: @BotFather → Bot Settings → threaded mode gives private chats topics)")


def claude_cli(f: Facts) -> Verdict:
    cli = default_cli()
    fix = "reinstall the bot (`make install`: claude-agent-sdk's wheel bundles the Claude Code CLI)"
    if cli is None:
        return _fail("no Claude Code CLI: not bundled in claude-agent-sdk and no `claude` on PATH", fix)
    try:
        done = subprocess.run([str(cli), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _fail(f"{cli} does not run: {exc}", fix)
    if done.returncode != 0:
        return _fail(f"{cli} --version exited with {done.returncode}: {(done.stderr or done.stdout).strip()[:200]}", fix)
    return _pass(f"{done.stdout.strip()} at {cli}")


def claude_credentials(f: Facts) -> Verdict:
    found = find_credentials(f.environ)
    if found is None:
        return _fail(
            "none found in the environment, in the configuration file or in Claude Code's login",
            f"run `tg-claude-code login` (a Claude subscription), or put ANTHROPIC_API_KEY=… in {f.config_file}",
        )
    return _pass(f"from {found}")


def _directory_problem(path: Path, f: Facts, *, private: bool) -> Verdict | None:
    other = f"or point {'SESSION_DIR' if private else 'CLAUDE_WORKING_DIR / ALLOWED_PATHS'} in {f.config_file} elsewhere"
    info = path.stat()
    owner, whose = f.euid, "the bot's user"
    if not private and f.box is not None and f.box.user is not None:  # workspaces are the box user's
        owner, whose = f.box.user.uid, f"{f.box.user.name}, the user Claude Code runs as"
    if info.st_uid != owner:
        return _fail(f"{path} belongs to uid {info.st_uid}, not to {whose} (uid {owner})", f"chown -R {owner} {path}, {other}")
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return _fail(f"{path} is not writable by the bot's user", f"chmod u+rwx {path}, {other}")
    mode = stat.S_IMODE(info.st_mode)
    if private and mode & 0o077:
        return _fail(f"{path} has mode {mode:o}: other users can read the session files", f"chmod 700 {path}, {other}")
    if not private and mode & 0o002 and not mode & stat.S_ISVTX:
        return _fail(f"{path} has mode {mode:o}: any user can change what Claude works on", f"chmod o-w {path}, {other}")
    return None


def session_dir(f: Facts) -> Verdict:
    if f.settings is None:
        return SKIPPED
    path = f.settings.session_dir
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), Path("/"))
        if os.access(parent, os.W_OK | os.X_OK):
            return _pass(f"{path} does not exist yet; the bot creates it (mode 700)")
        return _fail(f"{path} does not exist and {parent} is not writable", f"mkdir -m 700 -p {path}, or set SESSION_DIR in {f.config_file}")
    if not path.is_dir():
        return _fail(f"{path} is not a directory", f"set SESSION_DIR in {f.config_file} to a directory")
    return _directory_problem(path, f, private=True) or _pass(f"{path} (mode 700, yours)")


def working_roots(f: Facts) -> Verdict:
    if f.settings is None:
        return SKIPPED
    roots = list(dict.fromkeys([f.settings.claude_working_dir, *f.settings.allowed_paths]))
    for root in roots:
        if not root.is_dir():
            return _fail(f"{root} is not a directory", f"create it, or change CLAUDE_WORKING_DIR / ALLOWED_PATHS in {f.config_file}")
        if problem := _directory_problem(root, f, private=False):
            return problem
    return _pass(", ".join(str(root) for root in roots))


def out_of_claudes_reach(f: Facts) -> Verdict:
    """SESSION_DIR and the .env holding the token must not lie where Claude works."""
    if f.settings is None:
        return SKIPPED
    roots = f.settings.allowed_paths
    sessions = f.settings.session_dir
    if is_inside(sessions, roots) or any(root.is_relative_to(sessions) for root in roots):
        return _fail(
            f"SESSION_DIR {sessions} overlaps ALLOWED_PATHS: Claude could read or change the session files",
            f"move SESSION_DIR (in {f.config_file}) out of every ALLOWED_PATHS root",
        )
    env_file = (f.cwd / ".env").resolve()
    if env_file.is_file() and is_inside(env_file, roots):
        return _fail(
            f"{env_file} holds the bot's settings (the token) inside ALLOWED_PATHS, where Claude can read it",
            f"move the settings to {user_config_file()} (outside the workspace) and delete {env_file}",
        )
    return _pass("SESSION_DIR and the settings file are outside ALLOWED_PATHS")


def confinement(f: Facts) -> Verdict:
    if f.settings is None:
        return SKIPPED
    if f.box_error is not None:
        return _fail(f"CLAUDE_CONFINEMENT={f.settings.claude_confinement} cannot hold here: {f.box_error}", "fix that, or set CLAUDE_CONFINEMENT=auto")
    if f.box is None:
        return Verdict(Status.SKIP, "not checked")
    if not f.box.confined:
        bypass = "allowed (ALLOW_UNCONFINED_BYPASS=true)" if f.settings.allow_unconfined_bypass else "refused"
        return _fail(f"{f.box.describe()}; bypassPermissions is {bypass}", f.box.why_not)
    return _pass(f.box.describe())


Check = Callable[[Facts], Verdict]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("settings", settings_loaded),
    ("Bot API reachable", bot_api_reachable),
    ("bot token", token_accepted),
    ("privacy mode", privacy_mode),
    ("topics in private chats", topics_in_private_chats),
    ("Claude Code CLI", claude_cli),
    ("Claude credentials", claude_credentials),
    ("SESSION_DIR", session_dir),
    ("working directories", working_roots),
    ("out of Claude's reach", out_of_claudes_reach),
    ("Claude Code's box", confinement),
)
