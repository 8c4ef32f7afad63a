"""A change as files and hunks (git's own patch, split), and the git that reads and reverses it.

Two kinds of change are reviewed: a turn's (two snapshot trees, bot/features/diff.py) and the chat's
uncommitted one (HEAD against a snapshot of the work tree now, untracked files included). Reverting
applies the selected part of that patch in reverse to the work tree (`git apply -R`, never the index):
git refuses a part that no longer applies, paths outside the repository, and paths behind a symlink.
Every command is the bot's hardened git (bot/util/git.py), in the box when there is one.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from bot.features.diff import EXCLUDE, Scratch, PlainScratch, snapshot
from bot.util.git import GitError, git

DIFF = ("diff", "--no-ext-diff", "--no-textconv", "--no-color", "--no-renames", "--binary", "--full-index")
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
# Pathspecs are taken literally: a file named `*` is that file, not every file.
LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


@dataclass(frozen=True)
class FilePatch:
    """One file's part of a patch: its header (diff --git …, modes, ---/+++ or the binary data) and hunks."""

    path: str
    added: int | None  # None: binary
    removed: int | None
    header: str
    hunks: tuple[str, ...]

    @property
    def id(self) -> str:
        return digest(self.header + "".join(self.hunks))

    def hunk_ids(self) -> list[str]:
        return [digest(self.path + "\0" + hunk) for hunk in self.hunks]

    @property
    def binary(self) -> bool:
        return self.added is None

    @property
    def status(self) -> str:
        if "\nnew file mode " in self.header:
            return "added"
        if "\ndeleted file mode " in self.header:
            return "deleted"
        return "modified"

    def text(self, hunk: int | None = None) -> str:
        return self.header + ("".join(self.hunks) if hunk is None else self.hunks[hunk])


@dataclass(frozen=True)
class Change:
    """A change under review: the repository's top directory, two trees, and the files between them."""

    top: Path
    base: str
    head: str
    files: tuple[FilePatch, ...]

    def file(self, path: str) -> FilePatch | None:
        return next((f for f in self.files if f.path == path), None)


def split(patch: str, numstat: str) -> tuple[FilePatch, ...]:
    """`git diff --binary` split into files, named by `git diff --numstat -z` (same order, exact names)."""
    stats = [entry for entry in numstat.split("\0") if entry]
    chunks = re.split(r"(?m)^(?=diff --git )", patch)
    chunks = [chunk for chunk in chunks if chunk.startswith("diff --git ")]
    if len(chunks) != len(stats):
        raise GitError("git's patch and its file list disagree")
    files = []
    for chunk, stat in zip(chunks, stats):
        added, removed, path = stat.split("\t", 2)
        parts = re.split(r"(?m)^(?=@@ )", chunk)
        header, hunks = parts[0], tuple(parts[1:])
        files.append(FilePatch(path, int(added) if added.isdigit() else None, int(removed) if removed.isdigit() else None, header, hunks))
    return tuple(files)


async def between(top: Path, base: str, head: str) -> Change:
    numstat = await git(top, "diff", "--numstat", "-z", "--no-renames", base, head, "--", ".", EXCLUDE)
    patch = await git(top, *DIFF, base, head, "--", ".", EXCLUDE, timeout=60)
    return Change(top, base, head, split(patch, numstat))


async def uncommitted(directory: Path, box: Scratch | None = None) -> Change | None:
    """HEAD against the work tree now (untracked files included); None outside git (or too large a tree)."""
    now = await snapshot(directory, box)
    if now is None:
        return None
    try:
        base = (await git(now.top, "rev-parse", "--verify", "--quiet", "HEAD^{tree}")).strip()
    except GitError:  # no commit yet: everything is new
        base = await empty_tree(now.top, box)
    return await between(now.top, base, now.tree)


async def empty_tree(top: Path, box: Scratch | None = None) -> str:
    with (box or PlainScratch()).scratch() as tmp:
        return (await git(top, "write-tree", env={"GIT_INDEX_FILE": str(tmp / "empty-index")})).strip()


async def reverse(top: Path, patch: str, box: Scratch | None = None) -> None:
    """Undo `patch` in the work tree; GitError (git's line) when it no longer applies, and then nothing changed."""
    with (box or PlainScratch()).scratch() as tmp:
        path = tmp / "revert.patch"
        # The directory may belong to the box's user: never follow a link planted in it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)  # the box's git reads it
        with os.fdopen(fd, "wb") as handle:
            handle.write(patch.encode("utf-8", "surrogateescape"))
        await git(top, "apply", "-R", "--check", "--whitespace=nowarn", str(path))
        await git(top, "apply", "-R", "--whitespace=nowarn", str(path))
