"""What the Claude Code CLI itself refuses on this machine, known before a turn fails on it."""

from __future__ import annotations

import os
from collections.abc import Mapping

ROOT_BYPASS_REASON = (
    "Claude Code refuses bypassPermissions when it runs as root unless IS_SANDBOX=1 is set "
    "in the bot's environment (set it only where the machine really is a sandbox)"
)


def refused_modes(environ: Mapping[str, str] | None = None, euid: int | None = None) -> dict[str, str]:
    """Permission mode -> why the CLI would refuse it (it exits at start, so every turn would fail)."""
    environ = os.environ if environ is None else environ
    euid = os.geteuid() if euid is None else euid
    if euid == 0 and environ.get("IS_SANDBOX") != "1":  # the CLI accepts exactly "1" (checked with 2.1.332)
        return {"bypassPermissions": ROOT_BYPASS_REASON}
    return {}
