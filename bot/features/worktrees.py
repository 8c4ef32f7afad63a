"""/worktree: a git worktree (and branch) per chat, where Claude Code keeps its own: <repo>/.claude/worktrees/NAME."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.sessions.manager import SessionManager
from bot.sessions.session import ClaudeSession
from bot.util.git import GitError, git, run_git
from bot.util.paths import is_inside
from bot.util.text import esc

WORKTREES = Path(".claude") / "worktrees"
MAX_NAME = 48  # bytes: the name rides in a button's callback data (64 bytes)
NOTE_HEAD = "Bot note: this chat now works in "
NOT_A_REPO = "This chat's directory is not inside a git repository; /cd into one first."


@dataclass(frozen=True)
class Worktree:
    path: Path
    branch: str | None  # None: detached HEAD
    allowed: bool = True  # its resolved path lies inside ALLOWED_PATHS (Worktrees._trees)


@dataclass(frozen=True)
class Answer:
    """What a /worktree step says (HTML) and, for the buttons, the worktrees (branch names) it offers."""

    html: str
    choices: list[str]
    confirm_remove: str | None = None  # ask before removing this worktree (work would be lost)


async def branch_of(directory: Path | str) -> str | None:
    """The branch checked out in `directory`; None outside git or on a detached HEAD."""
    try:
        return (await git(directory, "branch", "--show-current", timeout=5)).strip() or None
    except GitError:
        return None


async def worktrees_of(directory: Path) -> list[Worktree]:
    """The repository's worktrees, its main one first; [] outside git."""
    try:
        out = await git(directory, "worktree", "list", "--porcelain")
    except GitError:
        return []
    found: list[Worktree] = []
    for block in out.strip().split("\n\n"):
        fields = dict(line.partition(" ")[::2] for line in block.splitlines())
        if "worktree" in fields and "bare" not in fields:
            branch = fields.get("branch", "").removeprefix("refs/heads/") or None
            found.append(Worktree(Path(fields["worktree"]), branch))
    return found


def note_for_claude(path: Path, branch: str | None) -> str:
    on = f" on git branch {branch}" if branch else ""
    return f"{NOTE_HEAD}{path}{on}."


@dataclass(frozen=True)
class Worktrees:
    """Every worktree path is resolved (symlinks too) and used only inside ALLOWED_PATHS: Claude can add a
    worktree anywhere (`git worktree add /elsewhere`) or make `.claude/worktrees` a symlink out of the roots."""

    manager: SessionManager
    allowed_paths: list[Path]

    def _allowed(self, path: Path) -> Path | None:
        """`path` resolved, when it lies inside ALLOWED_PATHS; None otherwise (or when it cannot be resolved)."""
        try:
            resolved = path.resolve(strict=False)
        except (OSError, RuntimeError):  # a symlink loop, a name too long
            return None
        return resolved if is_inside(resolved, self.allowed_paths) else None

    async def _trees(self, directory: Path) -> list[Worktree]:
        """The repository's worktrees, main one first, each resolved and marked whether it lies inside the roots."""
        trees = []
        for tree in await worktrees_of(directory):
            resolved = self._allowed(tree.path)
            trees.append(Worktree(resolved, tree.branch) if resolved else Worktree(tree.path, tree.branch, allowed=False))
        return trees

    def _move(self, session: ClaudeSession, tree: Worktree) -> None:
        session.set_working_dir(tree.path)
        notes = [n for n in session.record.notes_for_claude if not n.startswith(NOTE_HEAD)]  # only the latest move
        session.record.notes_for_claude = [*notes, note_for_claude(tree.path, tree.branch)]
        session.save()

    async def _name_refusal(self, directory: Path, name: str) -> str | None:
        if not name or name.startswith("-") or len(name.encode()) > MAX_NAME:
            return f"Give a branch name of 1 to {MAX_NAME} characters, for example /worktree feat-login."
        status, _, _ = await run_git(directory, "check-ref-format", "--branch", name)
        return None if status == 0 else f"Git does not accept {esc(name)} as a branch name."

    async def _target(self, directory: Path, name: str) -> tuple[list[Worktree], Path] | Answer:
        """The worktrees and where worktree `name` lives (resolved, inside the roots), or why not."""
        trees = await self._trees(directory)
        if not trees:
            return Answer(NOT_A_REPO, [])
        if refusal := await self._name_refusal(directory, name):
            return Answer(refusal, [])
        unresolved = trees[0].path / WORKTREES / name
        target = self._allowed(unresolved)
        if target is None:
            return Answer(f"<code>{esc(unresolved)}</code> would be outside the allowed directories.", [])
        return trees, target

    async def create_or_reuse(self, session: ClaudeSession, name: str) -> Answer:
        directory = session.working_dir
        found = await self._target(directory, name)
        if isinstance(found, Answer):
            return found
        trees, target = found
        here = next((t for t in trees if t.path == target and t.allowed), None)
        if here is None:
            elsewhere = next((t for t in trees if t.branch == name), None)
            if elsewhere is not None:
                return Answer(f"Branch {esc(name)} is already checked out in <code>{esc(elsewhere.path)}</code>.", [])
            exists, _, _ = await run_git(directory, "show-ref", "--verify", "--quiet", f"refs/heads/{name}")
            args = [str(target), name] if exists == 0 else ["-b", name, str(target), "HEAD"]
            try:
                await git(directory, "worktree", "add", "--quiet", *args, timeout=120)
            except GitError as exc:
                return Answer(f"Git could not create the worktree: {esc(exc)}", [])
            if self._allowed(target) != target:  # a symlink swapped in while git worked: not followed
                return Answer(f"<code>{esc(target)}</code> no longer lies inside the allowed directories.", [])
            here = Worktree(target, name)
            verb = "Created"
        else:
            verb = "Moved to"
        if session.working_dir == here.path:
            return Answer(f"This chat already works in <code>{esc(here.path)}</code> on branch {esc(name)}.", [])
        self._move(session, here)
        return Answer(
            f"🌿 {verb} worktree <code>{esc(here.path)}</code> on branch <b>{esc(name)}</b>; "
            "this chat works there now and the conversation continues.",
            [],
        )

    async def listing(self, session: ClaudeSession) -> Answer:
        trees = await self._trees(session.working_dir)
        if not trees:
            return Answer(NOT_A_REPO, [])
        lines = [f"<b>Worktrees of</b> <code>{esc(trees[0].path)}</code>"]
        inside = [t for t in trees if t.allowed]
        mine = max((t for t in inside if session.working_dir.is_relative_to(t.path)), key=lambda t: len(t.path.parts), default=None)
        for tree in trees:
            here = " ← this chat" if tree is mine else "" if tree.allowed else " (outside the allowed directories)"
            lines.append(f"• {esc(tree.branch or '(detached)')} — <code>{esc(tree.path)}</code>{here}")
        lines.append("\n/worktree NAME creates one; /worktree remove NAME removes one.")
        choices = [t.branch for t in inside if t.branch and len(t.branch.encode()) <= MAX_NAME]
        return Answer("\n".join(lines), choices)

    async def go(self, session: ClaudeSession, branch: str) -> str:
        tree = next((t for t in await self._trees(session.working_dir) if t.branch == branch), None)
        if tree is None:
            return "That worktree is gone."
        if not tree.allowed:
            return f"The worktree of branch {esc(branch)} lies outside the allowed directories; this chat stays where it is."
        if session.working_dir != tree.path:
            self._move(session, tree)
        return f"🌿 This chat works in <code>{esc(tree.path)}</code> on branch <b>{esc(branch)}</b> now."

    async def remove(self, session: ClaudeSession, name: str, *, confirmed: bool = False) -> Answer:
        found = await self._target(session.working_dir, name)
        if isinstance(found, Answer):
            return found
        trees, target = found
        tree = next((t for t in trees[1:] if t.path == target and t.allowed), None)
        if tree is None:
            return Answer(f"There is no worktree {esc(name)} in <code>{esc(target.parent)}</code>.", [])
        main = trees[0]
        leaving = session.working_dir.is_relative_to(tree.path)
        if leaving and not main.allowed:
            return Answer("This chat works in that worktree, and its repository lies outside the allowed directories.", [])
        for other in await self.manager.load_all():
            if other is not session and other.working_dir.is_relative_to(tree.path):
                return Answer(f"Chat {esc(other.record.title or other.name)} works in that worktree; move it first.", [])
        losses = await self._losses(tree)
        if losses and not confirmed:
            lines = [f"Removing worktree <b>{esc(name)}</b> would lose:", *(f"• {esc(line)}" for line in losses[:20])]
            if len(losses) > 20:
                lines.append(f"… and {len(losses) - 20} more")
            return Answer("\n".join(lines), [], confirm_remove=name)
        where = main.path if main.allowed else session.working_dir  # git runs only inside the roots
        try:
            await git(where, "worktree", "remove", "--force", str(tree.path), timeout=120)
            if tree.branch:
                await git(where, "branch", "-D", tree.branch)
        except GitError as exc:
            return Answer(f"Git could not remove the worktree: {esc(exc)}", [])
        text = f"🗑 Removed worktree {esc(name)}."
        if leaving:
            self._move(session, main)
            text += f" This chat works in <code>{esc(main.path)}</code> now."
        return Answer(text, [])

    @staticmethod
    async def _losses(tree: Worktree) -> list[str]:
        """Uncommitted files and commits no other branch or remote has."""
        try:
            status = await git(tree.path, "status", "--porcelain", "--untracked-files=all", "--ignore-submodules=all")
            commits = ""
            if tree.branch:
                commits = await git(
                    tree.path, "log", "--format=commit %h %s", tree.branch, "--not", f"--exclude={tree.branch}", "--branches", "--remotes"
                )
        except GitError as exc:
            return [f"(git could not tell: {exc})"]
        files = [f"uncommitted: {line[3:]}" for line in status.splitlines()]
        return files + commits.splitlines()
