"""Which permission modes are refused here, known before a turn fails on them: what the Claude Code CLI itself
refuses, and bypassPermissions where nothing but Claude Code's own checks would stand between Claude and the bot."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.confine import Box

ROOT_BYPASS_REASON = (
    "Claude Code refuses bypassPermissions when it runs as root unless IS_SANDBOX=1 is set "
    "in the bot's environment (set it only where the machine really is a sandbox)"
)


def unconfined_reason(why: str) -> str:
    return (
        f"Claude Code runs unconfined here ({why}), so without approvals a command could read the bot's token "
        "and change its files; confine it, or set ALLOW_UNCONFINED_BYPASS=true to accept that"
    )


def refused_modes(
    environ: Mapping[str, str] | None = None,
    euid: int | None = None,
    *,
    own_user: bool = False,
    unconfined: str | None = None,
) -> dict[str, str]:
    """Permission mode -> why it is refused (the CLI would exit at start, or nothing would hold without approvals).

    `own_user`: Claude Code runs as a user of its own (so not as root, whatever the bot is); `unconfined`: why
    Claude Code runs unconfined, None when it is confined or the operator allowed bypassPermissions anyway."""
    environ = os.environ if environ is None else environ
    euid = os.geteuid() if euid is None else euid
    if euid == 0 and not own_user and environ.get("IS_SANDBOX") != "1":  # the CLI accepts exactly "1" (2.1.332)
        return {"bypassPermissions": ROOT_BYPASS_REASON}
    if unconfined:
        return {"bypassPermissions": unconfined_reason(unconfined)}
    return {}


def refused_in(box: Box, allow_unconfined: bool) -> dict[str, str]:
    """The modes refused with Claude Code in `box` (the configured mode at start, and /mode)."""
    unconfined = None if box.confined or allow_unconfined else box.why_not
    return refused_modes(own_user=box.user is not None, unconfined=unconfined)
