"""Running git: one subprocess per call, bounded by a timeout, never a shell, never the repository's code.

The bot runs git in repositories Claude can write (diff snapshots before and after every turn,
branch look-ups, worktrees), so the repository's own configuration must not make git run a
program as the bot: every call gets a minimal environment (none of the bot's or Claude Code's
secrets), no system or global configuration, no optional locks, and command-line overrides
(which win over every configuration file) that switch off hooks, fsmonitor, pagers, editors,
credential helpers, signature checks, submodule recursion and every clean/smudge filter the
repository's configuration names.

Filters cannot be switched off as a whole: a `.gitattributes` line `* filter=x` makes `git add`
(and checkouts, `git status`) run `filter.x.clean` / `filter.x.process` from `.git/config`. So
before each call the configured filter names are listed (`git config --get-regexp`, which runs
nothing) and each gets empty commands. Residual risk: a program Claude left running could add a
filter between that listing and the call itself; confinement of git (the launcher's) is what
closes that window, this module only keeps git from running code on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

TIMEOUT = 30.0

# The only variables of the bot's environment git gets: it finds itself and writes temporary files.
PASSED_ENV = ("PATH", "TMPDIR")
FIXED_ENV = {
    "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_SYSTEM": os.devnull,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_OPTIONAL_LOCKS": "0",  # `git status` would otherwise rewrite the index Claude's git may be using
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "GIT_PAGER": "cat",
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
}
# Command-line configuration: above the repository's own, and inherited by the git processes git starts.
OVERRIDES = (
    ("core.hooksPath", os.devnull),
    ("core.fsmonitor", "false"),
    ("core.untrackedCache", "false"),
    ("core.attributesFile", os.devnull),
    ("core.pager", "cat"),
    ("core.editor", "true"),
    ("core.askPass", ""),
    ("core.sshCommand", "false"),
    ("credential.helper", ""),
    ("diff.external", ""),
    ("log.showSignature", "false"),
    ("commit.gpgSign", "false"),  # a signing program is the repository's choice of code (gpg.program)
    ("tag.gpgSign", "false"),
    ("submodule.recurse", "false"),
    ("protocol.allow", "never"),
    ("gc.auto", "0"),  # no repacking on the bot's time
    ("maintenance.auto", "false"),
)
FILTER_KEYS = (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false"))
# Commands that never read a work tree file's content, so never run a filter: no listing before them
# (the test in tests/unit/util/test_git.py runs each of them in a trapped repository).
NO_CONTENT = frozenset({"rev-parse", "check-ref-format", "show-ref", "branch"})  # not write-tree: it can refresh the index

# How every git command is started: set once at start (bot/app.py) to the box Claude Code runs in, so the
# bot's git never runs a repository's code as the bot, and files it writes in .git belong to the box user.
Wrap = Callable[[Sequence[str]], list[str]]
_wrap: Wrap = list


def confine(wrap: Wrap) -> None:
    global _wrap
    _wrap = wrap


class GitError(Exception):
    """git failed (or is missing, or took too long); the message is git's own last stderr line."""


def _environment(overrides: list[tuple[str, str]], extra: dict[str, str] | None) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.update(FIXED_ENV)
    env["GIT_CONFIG_COUNT"] = str(len(overrides))
    for number, (key, value) in enumerate(overrides):  # keys as variables: a filter name may hold '='
        env[f"GIT_CONFIG_KEY_{number}"] = key
        env[f"GIT_CONFIG_VALUE_{number}"] = value
    env.update(extra or {})
    return env


async def _exec(cwd: Path | str, args: tuple[str, ...], env: dict[str, str], timeout: float) -> tuple[int, str, str]:
    try:
        process = await asyncio.create_subprocess_exec(
            *_wrap(["git", *args]),
            cwd=str(cwd),
            env=env,
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


async def configured_filters(cwd: Path | str, timeout: float = TIMEOUT) -> list[str]:
    """The filter drivers the repository's configuration defines (its includes too); [] outside git."""
    status, out, err = await _exec(
        cwd, ("config", "-z", "--name-only", "--get-regexp", r"^filter\."), _environment(list(OVERRIDES), None), timeout
    )
    if status not in (0, 1):  # 1: none; anything else (a broken config file) would break the real call too
        lines = err.strip().splitlines()
        raise GitError(lines[-1] if lines else "git config failed")
    names = set()
    for key in out.split("\0"):
        section, _, rest = key.partition(".")
        driver, dot, _ = rest.rpartition(".")
        if section == "filter" and dot and driver:
            names.add(driver)
    return sorted(names)


async def run_git(cwd: Path | str, *args: str, env: dict[str, str] | None = None, timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `git args…` in `cwd`."""
    overrides = list(OVERRIDES)
    drivers = [] if args and args[0] in NO_CONTENT else await configured_filters(cwd, timeout)
    for driver in drivers:
        overrides += [(f"filter.{driver}.{key}", value) for key, value in FILTER_KEYS]
    return await _exec(cwd, args, _environment(overrides, env), timeout)


async def git(cwd: Path | str, *args: str, env: dict[str, str] | None = None, timeout: float = TIMEOUT) -> str:
    """stdout of a git command that must succeed."""
    status, out, err = await run_git(cwd, *args, env=env, timeout=timeout)
    if status != 0:
        lines = err.strip().splitlines()
        raise GitError(lines[-1] if lines else f"git {args[0]} failed")
    return out
