"""Running git: one subprocess per call, bounded by a timeout, never a shell."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

TIMEOUT = 30.0

# How every git command is started: set once at start (bot/app.py) to the box Claude Code runs in, so the
# bot's git never runs a repository's code as the bot, and files it writes in .git belong to the box user.
Wrap = Callable[[Sequence[str]], list[str]]
_wrap: Wrap = list


def confine(wrap: Wrap) -> None:
    global _wrap
    _wrap = wrap


class GitError(Exception):
    """git failed (or is missing, or took too long); the message is git's own last stderr line."""


async def run_git(cwd: Path | str, *args: str, env: dict[str, str] | None = None, timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `git args…` in `cwd`."""
    try:
        process = await asyncio.create_subprocess_exec(
            *_wrap(["git", *args]),
            cwd=str(cwd),
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:  # no git, or the directory is gone
        raise GitError(str(exc)) from exc
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise GitError(f"git {args[0]} took longer than {timeout:g} s") from None
    return process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


async def git(cwd: Path | str, *args: str, env: dict[str, str] | None = None, timeout: float = TIMEOUT) -> str:
    """stdout of a git command that must succeed."""
    status, out, err = await run_git(cwd, *args, env=env, timeout=timeout)
    if status != 0:
        lines = err.strip().splitlines()
        raise GitError(lines[-1] if lines else f"git {args[0]} failed")
    return out
