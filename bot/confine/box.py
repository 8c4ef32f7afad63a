"""The box the bot runs Claude Code (and its own git) in: a confinement, its layout, and what it means."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.confine.confinement import Confinement
from bot.confine.layout import BoxUser, Layout


@dataclass
class Box:
    confinement: Confinement
    layout: Layout
    why_not: str = ""  # for an unconfined box: the one sentence saying why, with the fix
    notes: list[str] = field(default_factory=list)  # what opening it did (a user created, a workspace handed over)

    @property
    def user(self) -> BoxUser | None:
        return self.confinement.user

    @property
    def confined(self) -> bool:
        return self.confinement.confines

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` as the box runs it: confined, with Claude Code's home instead of the bot's."""
        if not self.confined:
            return list(argv)
        names = self.layout.environment()
        if self.user is not None:
            names.update(USER=self.user.name, LOGNAME=self.user.name)
        env = [f"{name}={value}" for name, value in names.items()]
        return self.confinement.wrap([shutil.which("env") or "/usr/bin/env", *env, *argv])

    def describe(self) -> str:
        """One line for the start-up log and `doctor`."""
        if not self.confined:
            return f"Claude Code runs unconfined: {self.why_not}"
        who = f"as {self.user.name} (uid {self.user.uid})" if self.user else "as the bot's user"
        writes = ", ".join(str(path) for path in (*self.layout.workspaces, self.layout.state))
        return f"Claude Code runs confined ({self.confinement.name}) {who}; it may write only {writes}"

    def give(self, fd: int) -> None:
        """A file the bot made for Claude (an upload) becomes the box user's, so Claude can read and change it."""
        if self.user is not None:
            os.fchown(fd, self.user.uid, self.user.gid)

    @contextlib.contextmanager
    def scratch(self) -> Iterator[Path]:
        """A temporary directory the box's processes can write at the same path (a diff snapshot's index).
        Made by the bot (nobody can plant anything in it first), then handed to the box user."""
        parent = self.layout.scratch if self.confined else None
        with tempfile.TemporaryDirectory(prefix="bot-diff-", dir=parent) as tmp:
            if self.confined and self.user is not None:
                os.chown(tmp, self.user.uid, self.user.gid)
            yield Path(tmp)

    async def copy(self, source: Path, target: Path) -> bool:
        """Copy a file of a workspace as the box does (a copy made as root could follow a link Claude planted)."""
        if not self.confined:
            with contextlib.suppress(OSError):
                shutil.copyfile(source, target)
                return True
            return False
        process = await asyncio.create_subprocess_exec(
            *self.command(["cp", "--", str(source), str(target)]),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        return await process.wait() == 0
