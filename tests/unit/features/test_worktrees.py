"""bot.features.worktrees against real git: every worktree path is resolved and used only inside ALLOWED_PATHS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.features import worktrees as worktrees_module
from bot.features.worktrees import Worktrees
from bot.sessions.manager import SessionManager
from bot.sessions.records import SessionRecord
from bot.sessions.session import ClaudeSession
from bot.sessions.store import SessionStore
from tests.e2e.git_repo import git, make_repo


def _setup(tmp_path: Path) -> tuple[Path, Path, ClaudeSession, Worktrees]:
    root = tmp_path / "work"
    repo = make_repo(root / "repo")
    outside = tmp_path / "outside"
    outside.mkdir()
    session = ClaudeSession(record=SessionRecord(name="1", working_dir=str(repo)), store=SessionStore(tmp_path / "s"))
    return repo, outside, session, Worktrees(SessionManager(session.store, repo, allowed_paths=[root]), [root])


async def test_worktrees_inside_the_roots_are_created_listed_gone_to_and_removed(tmp_path: Path) -> None:
    repo, _, session, worktrees = _setup(tmp_path)
    created = await worktrees.create_or_reuse(session, "feat")
    assert created.html.startswith("🌿 Created worktree") and session.working_dir == repo / ".claude" / "worktrees" / "feat"
    assert (await worktrees.listing(session)).choices == ["main", "feat"]
    assert "works in" in await worktrees.go(session, "main")
    assert session.working_dir == repo
    removed = await worktrees.remove(session, "feat")
    assert removed.html == "🗑 Removed worktree feat."


async def test_a_symlinked_worktrees_directory_leading_out_of_the_roots_is_refused(tmp_path: Path) -> None:
    repo, outside, session, worktrees = _setup(tmp_path)
    (repo / ".claude").mkdir()
    (repo / ".claude" / "worktrees").symlink_to(outside, target_is_directory=True)
    refused = await worktrees.create_or_reuse(session, "feat")
    assert "would be outside the allowed directories" in refused.html
    assert list(outside.iterdir()) == [] and session.working_dir == repo
    # One Claude made through the symlink is neither offered, nor gone to, nor removed.
    git(repo, "worktree", "add", "-q", "-b", "feat", str(repo / ".claude" / "worktrees" / "feat"), "HEAD")
    listing = await worktrees.listing(session)
    assert "feat" not in listing.choices and "(outside the allowed directories)" in listing.html
    assert "outside the allowed directories" in await worktrees.go(session, "feat")
    assert "would be outside the allowed directories" in (await worktrees.remove(session, "feat", confirmed=True)).html
    assert (outside / "feat" / "README.md").is_file() and session.working_dir == repo


async def test_a_worktree_git_lists_outside_the_roots_is_not_offered_and_the_chat_does_not_move_there(tmp_path: Path) -> None:
    repo, outside, session, worktrees = _setup(tmp_path)
    git(repo, "worktree", "add", "-q", "-b", "away", str(outside / "away"), "HEAD")
    listing = await worktrees.listing(session)
    assert "away" not in listing.choices and f"{outside / 'away'}</code> (outside the allowed directories)" in listing.html
    assert await worktrees.go(session, "away") == (
        "The worktree of branch away lies outside the allowed directories; this chat stays where it is."
    )
    assert session.working_dir == repo
    assert "already checked out" in (await worktrees.create_or_reuse(session, "away")).html
    assert "There is no worktree away" in (await worktrees.remove(session, "away", confirmed=True)).html
    assert (outside / "away" / "README.md").is_file()


async def test_a_chat_in_a_linked_worktree_whose_repository_lies_outside_creates_nothing_there(tmp_path: Path) -> None:
    root = tmp_path / "work"
    root.mkdir()
    main = make_repo(tmp_path / "outside" / "repo")
    linked = root / "linked"
    git(main, "worktree", "add", "-q", "-b", "linked", str(linked), "HEAD")
    session = ClaudeSession(record=SessionRecord(name="1", working_dir=str(linked)), store=SessionStore(tmp_path / "s"))
    worktrees = Worktrees(SessionManager(session.store, linked, allowed_paths=[root]), [root])
    assert "would be outside the allowed directories" in (await worktrees.create_or_reuse(session, "x")).html
    listing = await worktrees.listing(session)
    assert listing.choices == ["linked"] and "← this chat" in listing.html
    assert not (main / ".claude").exists()


async def test_a_symlink_swapped_in_while_git_adds_the_worktree_does_not_move_the_chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, outside, session, worktrees = _setup(tmp_path)
    real = worktrees_module.git

    async def racing(cwd: Path | str, *args: str, **kwargs: Any) -> str:
        out = await real(cwd, *args, **kwargs)
        if args[:2] == ("worktree", "add"):  # Claude's program swaps the directory for a link out of the roots
            (repo / ".claude" / "worktrees").rename(outside / "moved")
            (repo / ".claude" / "worktrees").symlink_to(outside / "moved", target_is_directory=True)
        return out

    monkeypatch.setattr(worktrees_module, "git", racing)
    answer = await worktrees.create_or_reuse(session, "feat")
    assert answer.html == f"<code>{repo / '.claude' / 'worktrees' / 'feat'}</code> no longer lies inside the allowed directories."
    assert session.working_dir == repo
