"""bot.util.git never runs the repository's code: hooks, fsmonitor, filters, diff drivers planted in a
real repository run under plain git (so each trap is live) and never under the bot's git operations."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.features import diff
from bot.features.worktrees import Worktrees, branch_of, worktrees_of
from bot.sessions.manager import SessionManager
from bot.sessions.records import SessionRecord
from bot.sessions.session import ClaudeSession
from bot.sessions.store import SessionStore
from bot.util.git import configured_filters, git
from tests.e2e.git_repo import IDENTITY, make_repo

HOOKS = ("pre-commit", "post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc")


def _program(path: Path, marker: Path, body: str = "") -> str:
    """A shell script that notes its name in `marker`, then does `body` (a filter must pass its input on)."""
    path.write_text(f'#!/bin/sh\necho "{path.name} $*" >> "{marker}"\n{body}\n')
    path.chmod(0o755)
    return str(path)


def _trapped_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A repository whose configuration would run a program (each noting itself in the marker file) on
    add, status, checkout, diff, branch changes; the filter names include one an `-c` option cannot spell."""
    marker = tmp_path / "ran.log"
    tools = tmp_path / "tools"
    tools.mkdir()
    repo = make_repo(tmp_path / "repo", {"a.txt": "one\n", "b.bin": "two\n"})
    cat = 'cat'
    for hook in HOOKS:
        _program(repo / ".git" / "hooks" / hook, marker)
    included = tmp_path / "included.config"
    included.write_text(
        f"[filter \"odd=name\"]\n\tclean = {_program(tools / 'odd-clean', marker, cat)}\n"
    )
    settings = {
        "core.fsmonitor": _program(tools / "fsmonitor", marker),
        "filter.evil.clean": _program(tools / "clean", marker, cat),
        "filter.evil.smudge": _program(tools / "smudge", marker, cat),
        "filter.evil.required": "true",
        "diff.external": _program(tools / "ext-diff", marker),
        "diff.conv.textconv": _program(tools / "textconv", marker, 'cat "$1"'),
        "include.path": str(included),
    }
    for key, value in settings.items():
        subprocess.run(["git", "config", key, value], cwd=repo, check=True)
    (repo / ".gitattributes").write_text("*.txt filter=evil diff=conv\n*.bin filter=odd=name\n")
    return repo, marker


def _ran(marker: Path) -> set[str]:
    return {line.split()[0] for line in marker.read_text().splitlines()} if marker.exists() else set()


def _session(tmp_path: Path, directory: Path) -> ClaudeSession:
    return ClaudeSession(record=SessionRecord(name="1", working_dir=str(directory)), store=SessionStore(tmp_path / "s"))


async def test_the_bots_git_operations_run_none_of_the_repositorys_programs(tmp_path: Path) -> None:
    repo, marker = _trapped_repo(tmp_path)
    assert await configured_filters(repo) == ["evil", "odd=name"]
    before = await diff.snapshot(repo)
    assert before is not None
    (repo / "a.txt").write_text("one\nmore\n")
    (repo / "b.bin").write_text("changed\n")
    change = await diff.compare(before)
    assert change is not None and change.files == 2
    patch = await diff.patch(change)
    assert patch is not None and "+more" in patch
    assert await branch_of(repo) is not None
    session = _session(tmp_path, repo)
    worktrees = Worktrees(SessionManager(session.store, repo), [repo])
    created = await worktrees.create_or_reuse(session, "feat")
    assert "Created worktree" in created.html, created.html
    assert (repo / ".claude" / "worktrees" / "feat" / "a.txt").read_text() == "one\n"
    assert len(await worktrees_of(repo)) == 2
    (repo / ".claude" / "worktrees" / "feat" / "a.txt").write_text("dirty\n")
    asked = await worktrees.remove(session, "feat")  # `git status` and `git log` in the worktree
    assert asked.confirm_remove == "feat" and "uncommitted: a.txt" in asked.html
    removed = await worktrees.remove(session, "feat", confirmed=True)
    assert "Removed worktree" in removed.html
    assert _ran(marker) == set()


def _plain(repo: Path, *args: str) -> None:
    subprocess.run(["git", *IDENTITY, *args], cwd=repo, check=True, capture_output=True)


def test_plain_git_in_the_same_repository_runs_every_planted_program(tmp_path: Path) -> None:
    repo, marker = _trapped_repo(tmp_path)
    (repo / "a.txt").write_text("one\nmore\n")
    (repo / "b.bin").write_text("changed\n")
    _plain(repo, "add", "-A")
    _plain(repo, "diff", "--cached")
    _plain(repo, "diff", "--cached", "--no-ext-diff")
    _plain(repo, "worktree", "add", "-q", "-b", "feat", str(tmp_path / "wt"), "HEAD")
    assert _ran(marker) == {
        "fsmonitor", "clean", "odd-clean", "smudge", "ext-diff", "textconv",
        "post-checkout", "post-index-change", "reference-transaction",
    }


async def test_git_gets_neither_the_bots_nor_claude_codes_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    for name in ("TELEGRAM_BOT_TOKEN", "TRANSCRIBE_API_KEY", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "GIT_DIR", "HOME"):
        monkeypatch.setenv(name, f"secret-{name}")
    # An alias the bot itself asks for shows the environment git passes on to the programs it starts.
    shown = await git(repo, "-c", "alias.show-env=!env", "show-env")
    assert "secret-" not in shown
    assert "GIT_CONFIG_NOSYSTEM=1" in shown and "GIT_OPTIONAL_LOCKS=0" in shown


async def test_a_broken_configuration_fails_the_call_instead_of_skipping_the_filter_listing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    with (repo / ".git" / "config").open("a") as config:
        config.write("[broken\n")
    assert await diff.snapshot(repo) is None
    assert await branch_of(repo) is None
