"""What a turn changed in a git work tree: a snapshot at its start and end, the diff between them.

A snapshot is a tree object written from a temporary index (`git add -A` with GIT_INDEX_FILE),
so untracked files count and the user's own index and stash are never touched. With the bot in a
box (bot/confine/), the temporary index lives where the box's git can write it, and the real index is
copied by the box, never by the bot (a link planted in .git would otherwise be read as the bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ContextManager, Protocol

from bot.sessions.records import ChangeRef
from bot.sessions.session import ClaudeSession
from bot.util.git import GitError, git
from bot.util.text import counted, esc

# Claude Code's worktrees live inside the repository; they are other checkouts, not changes here.
EXCLUDE = ":(exclude).claude/worktrees"
CHANGES_KEPT = 20
PROMPT_KEPT = 500  # of the turn's request, for a commit message
MAX_INLINE = 3500  # longer diffs go as a document (a message holds 4096 characters)
# A work tree with more untracked data than this (say, a home directory under git) is not
# snapshotted: hashing it all into the repository on every turn would cost more than the line is worth.
MAX_UNTRACKED_FILES = 2000
MAX_UNTRACKED_BYTES = 50 * 1024 * 1024


class Scratch(Protocol):
    """Temporary files for the bot's git (bot/confine/box.py Box)."""

    def scratch(self) -> ContextManager[Path]: ...

    async def copy(self, source: Path, target: Path) -> bool: ...


class PlainScratch:
    """No box: a temporary directory of the bot's, copied by the bot."""

    @contextlib.contextmanager
    def scratch(self) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="bot-diff-") as tmp:
            yield Path(tmp)

    async def copy(self, source: Path, target: Path) -> bool:
        shutil.copyfile(source, target)
        return True


@dataclass(frozen=True)
class Snapshot:
    top: Path  # the work tree's top directory
    tree: str


async def snapshot(directory: Path, box: Scratch | None = None) -> Snapshot | None:
    """The work tree as it is now, untracked files included; None outside git."""
    box = box or PlainScratch()
    try:
        top = Path((await git(directory, "rev-parse", "--show-toplevel")).strip())
        untracked = (await git(top, "ls-files", "--others", "--exclude-standard", "-z", "--", ".", EXCLUDE)).split("\0")
        if not await asyncio.to_thread(_small, top, [name for name in untracked if name]):
            return None
        index = Path((await git(top, "rev-parse", "--path-format=absolute", "--git-path", "index")).strip())
        with box.scratch() as tmp:
            temp_index = tmp / "index"
            if index.exists():  # a copy of the real index: unchanged files are not hashed again
                await box.copy(index, temp_index)
            env = {"GIT_INDEX_FILE": str(temp_index)}
            await git(top, "add", "-A", "--", ".", EXCLUDE, env=env)
            tree = (await git(top, "write-tree", env=env)).strip()
    except GitError:
        return None
    return Snapshot(top, tree)


def _small(top: Path, names: list[str]) -> bool:
    if len(names) > MAX_UNTRACKED_FILES:
        return False
    total = 0
    for name in names:
        try:
            total += (top / name).lstat().st_size
        except OSError:
            continue
    return total <= MAX_UNTRACKED_BYTES


async def compare(before: Snapshot, box: Scratch | None = None) -> ChangeRef | None:
    """What changed since `before`; None when nothing did (or git failed)."""
    after = await snapshot(before.top, box)
    if after is None or after.tree == before.tree:
        return None
    try:
        numstat = await git(before.top, "diff", "--no-ext-diff", "--no-textconv", "--numstat", "--no-renames", before.tree, after.tree)
    except GitError:
        return None
    change = ChangeRef(repo=str(before.top), base=before.tree, head=after.tree)
    for line in numstat.splitlines():
        added, removed, _ = line.split("\t", 2)
        change.files += 1
        change.added += int(added) if added.isdigit() else 0  # "-" for binary files
        change.removed += int(removed) if removed.isdigit() else 0
    return change if change.files else None


def summary_line(change: ChangeRef) -> str:
    files = f"{counted(change.files, 'file')} changed"
    return f"📝 {files}, +{change.added} −{change.removed}"


def remember(session: ClaudeSession, change: ChangeRef) -> None:
    changes = session.record.changes
    changes.append(change)
    del changes[:-CHANGES_KEPT]
    session.save()


def find(session: ClaudeSession, base: str = "", head: str = "") -> ChangeRef | None:
    """A remembered change by its tree ids (or their first characters); the latest one without ids."""
    for change in reversed(session.record.changes):
        if change.base.startswith(base) and change.head.startswith(head):
            return change
    return None


async def patch(change: ChangeRef) -> str | None:
    """The change as a unified diff; None when git no longer has it (repository gone)."""
    try:
        return await git(change.repo, "diff", "--no-ext-diff", "--no-textconv", "--no-color", "--binary", change.base, change.head, timeout=60)
    except GitError:
        return None


@dataclass(frozen=True)
class DiffReply:
    """/diff's answer: HTML text (short diffs, and every refusal) or a `changes.diff` document."""

    html: str = ""
    document: bytes | None = None


async def show(session: ClaudeSession, base: str = "", head: str = "") -> DiffReply:
    change = find(session, base, head)
    if change is None:
        return DiffReply("No file changes recorded in this chat yet." if not base else "That change is no longer kept.")
    text = await patch(change)
    if text is None:
        return DiffReply("That change can no longer be read from its repository.")
    title = f"<b>{esc(summary_line(change))}</b> in <code>{esc(change.repo)}</code>"
    if len(text) <= MAX_INLINE:
        return DiffReply(f'{title}\n<pre><code class="language-diff">{esc(text)}</code></pre>')
    return DiffReply(title, text.encode())


class ChangeTracker:
    """The turn scheduler's hook: snapshot before a turn, the changed-files line after it."""

    def __init__(self, box: Scratch | None = None) -> None:
        self.box = box

    async def before(self, session: ClaudeSession) -> Snapshot | None:
        return await snapshot(session.working_dir, self.box)

    async def after(self, session: ClaudeSession, before: Snapshot | None, prompt: str = "") -> ChangeRef | None:
        if before is None:
            return None
        change = await compare(before, self.box)
        if change is not None:
            change.prompt = prompt[:PROMPT_KEPT]
            remember(session, change)
        return change
