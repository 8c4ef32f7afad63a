"""The command that continues a chat's conversation at the desk, for /status: ready to copy into a terminal.

Claude Code finds a conversation by its id in the directory's project of its configuration directory, so the
command names the directory, the id and, when the bot's Claude Code keeps its state elsewhere than a
terminal's `claude` would look (~/.claude), that CLAUDE_CONFIG_DIR. When the bot runs as root, Claude Code runs
as a user of its own in the box (bot/confine/), with its own home and state, and sees the workspaces where
that user alone might not reach them (below /root, say). The desk then runs the bot's own launcher
(SESSION_DIR/.claude-launcher, readable by root only): the same CLI in the same box as that user, so every
file it writes (the transcript, .claude.json, the workspace's files) stays that user's and the bot's CLI can
go on writing them. A root shell running its own `claude` against that state would leave files tg-claude
cannot write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bot.claude.desk import WRITING, Writer
from bot.confine import Box


def quoted(text: str) -> str:
    """In single quotes for any POSIX shell, always (a directory may hold anything)."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


@dataclass(frozen=True)
class DeskCommand:
    state: Path  # the bot's CLAUDE_CONFIG_DIR
    default_state: bool  # a terminal's `claude` of the same account finds it without being told
    user: str | None = None  # the user Claude Code runs as, when that is not the bot's (root → tg-claude)
    launcher: str | None = None  # the bot's CLI in its box (for that user)

    def command(self, directory: str, session_id: str) -> str:
        resume = f"--resume {session_id}"
        if self.user is not None and self.launcher is not None:
            run = f"{quoted(self.launcher)} {resume}"
        elif self.default_state:
            run = f"claude {resume}"
        else:
            run = f"CLAUDE_CONFIG_DIR={quoted(str(self.state))} claude {resume}"
        return f"cd {quoted(directory)} && {run}"

    def note(self) -> str:
        """Who runs the command, in a few words (shown with it)."""
        if self.user is not None and self.launcher is not None:
            return f"as root on this machine: it runs Claude Code as {self.user} in the bot's box, as the bot does"
        if self.default_state:
            return "as the bot's user, on this machine"
        return "as the bot's user, on this machine; it names where the bot's Claude Code keeps its conversations"


def desk_command(box: Box, launcher: str | None) -> DeskCommand:
    state = box.layout.state
    default = (Path(os.environ.get("HOME") or Path.home()) / ".claude").resolve()
    user = box.user.name if box.user is not None else None
    return DeskCommand(state=state, default_state=state.resolve() == default, user=user, launcher=launcher)


def holder_line(writer: Writer) -> str:
    """What /status says of a Claude Code at the desk that holds this chat's conversation."""
    if writer.status in WRITING:
        return f"⏳ Claude Code at the desk (pid {writer.pid}) is mid-turn in this conversation: messages here wait for it."
    return (
        f"🖥 Claude Code is open at the desk on this conversation (pid {writer.pid}): it does not see what this chat "
        "adds until you resume it there again (exit it and run the command below)."
    )
