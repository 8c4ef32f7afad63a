"""`tg-claude-code login`: Claude Code's own login, run with the CLI the bot starts, for the home it uses.

There is no `claude` on PATH (the CLI comes inside the claude-agent-sdk wheel), so a subscriber
cannot follow Claude Code's own instructions. Two ways in:
- `auth login` (a browser, or a link to open and a code to paste back): the login lands in
  Claude Code's configuration directory of this user ($CLAUDE_CONFIG_DIR, else ~/.claude), where
  the bot's CLI finds it;
- `setup-token` (for a headless server): a long-lived token the CLI prints; it is written into the
  configuration file as CLAUDE_CODE_OAUTH_TOKEN, which the bot hands to Claude Code.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.claude.launcher import default_cli
from bot.setup.envfile import write_settings
from bot.setup.terminal import Terminal

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
OAUTH_TOKEN = re.compile(r"sk-ant-oat\d+-[A-Za-z0-9_-]{20,}")


def headless(environ: Mapping[str, str]) -> bool:
    """No browser to open here: a server reached over SSH, a container."""
    return sys.platform != "darwin" and not any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))


def _run_capturing(argv: list[str]) -> str:
    """Run `argv` on this terminal (it is interactive) and return what it printed, colours removed."""
    seen = bytearray()

    def read(fd: int) -> bytes:
        data = os.read(fd, 1024)
        seen.extend(data)
        return data

    pty.spawn(argv, read)
    return ANSI.sub("", seen.decode(errors="replace"))


def logged_in(cli: Path) -> bool:
    done = subprocess.run([str(cli), "auth", "status"], capture_output=True, text=True, timeout=60)
    return '"loggedIn": true' in done.stdout


def login(term: Terminal, config_file: Path, *, token: bool | None = None) -> int:
    """Log Claude Code in; 0 when it has credentials afterwards."""
    cli = default_cli()
    if cli is None:
        term.say("No Claude Code CLI: reinstall the bot (`make install`); claude-agent-sdk's wheel bundles it.")
        return 1
    use_token = headless(os.environ) if token is None else token
    if not use_token:
        term.say("Claude Code's login (`auth login`): follow its link, sign in with your Claude account.")
        subprocess.run([str(cli), "auth", "login"])
        if logged_in(cli):
            term.say("Claude Code is logged in; the bot's Claude Code uses this login.")
            return 0
        term.say("Claude Code is not logged in. On a server without a browser try `tg-claude-code login --token`.")
        return 1
    term.say("Claude Code's `setup-token`: open its link, sign in with your Claude account, paste the code back.")
    found = OAUTH_TOKEN.findall(_run_capturing([str(cli), "setup-token"]))
    value = found[-1] if found else term.secret("Paste the token it printed (sk-ant-oat…), or press Enter to stop")
    if not value:
        term.say(f"No token written. Later: put CLAUDE_CODE_OAUTH_TOKEN=… in {config_file}.")
        return 1
    write_settings(config_file, {"CLAUDE_CODE_OAUTH_TOKEN": value})
    term.say(f"Wrote CLAUDE_CODE_OAUTH_TOKEN to {config_file} (mode 600); the bot hands it to Claude Code.")
    return 0
