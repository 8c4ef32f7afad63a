"""Claude Code processes that end with the bot, even when the bot is killed with SIGKILL, and run in its box.

The SDK starts the CLI as a plain child process. A killed bot cannot close its clients, and a CLI
in the middle of a turn does not stop when its stdin closes: it finishes the turn (running tools,
editing files) while the restarted bot resumes the same conversation beside it. Started through
`setpriv --pdeathsig TERM` (util-linux), the CLI gets SIGTERM from the kernel when the bot dies.
The script then runs the CLI in the box (bot/confine/: bubblewrap, a user of its own, or both).
The launcher runs outside the box, so it lives in SESSION_DIR, which the start-up checks keep
outside every workspace and owned by the bot's user (bot/security/), and which no box can see.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

LAUNCHER_NAME = ".claude-launcher"


def default_cli() -> Path | None:
    """The CLI the SDK would start: the one bundled in its wheel, else `claude` on PATH."""
    spec = importlib.util.find_spec("claude_agent_sdk")  # found, not imported: that takes half a second
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).resolve().parent / "_bundled" / "claude"
        if bundled.is_file():
            return bundled
    found = shutil.which("claude")
    return Path(found) if found else None


def write_launcher(directory: Path, cli: Path | None, box: Callable[[Sequence[str]], list[str]] = list) -> str | None:
    """An executable in `directory` that runs `cli` in the box (`box` wraps an argv) so that it dies with its
    parent; None if not possible."""
    setpriv = shutil.which("setpriv")
    if cli is None or setpriv is None or not sys.platform.startswith("linux"):
        log.warning("setpriv (util-linux) not found: Claude Code processes may outlive a killed bot")
        return None
    launcher = directory / LAUNCHER_NAME
    command = " ".join(shlex.quote(arg) for arg in [setpriv, "--pdeathsig", "TERM", "--", *box([str(cli)])])
    script = f'#!/bin/sh\nexec {command} "$@"\n'
    # Written fresh at every start, never through a planted symlink or into a file someone else
    # made: a new private file (exclusive create, no symlink followed), then renamed over the old one
    # (a rename replaces a symlink itself, never its target).
    tmp = directory / f".{LAUNCHER_NAME}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o700)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(fd, 0o700)
        handle.write(script)
    os.replace(tmp, launcher)
    return str(launcher)
