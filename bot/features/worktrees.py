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
    manager: SessionManager
    allowed_paths: list[Path]

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

    async def create_or_reuse(self, session: ClaudeSession, name: str) -> Answer:
        directory = session.working_dir
        trees = await worktrees_of(directory)
        if not trees:
            return Answer(NOT_A_REPO, [])
        if refusal := await self._name_refusal(directory, name):
            return Answer(refusal, [])
        target = trees[0].path / WORKTREES / name
        if not is_inside(target, self.allowed_paths):
            return Answer(f"<code>{esc(target)}</code> would be outside the allowed directories.", [])
        here = next((t for t in trees if t.path == target), None)
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
        trees = await worktrees_of(session.working_dir)
        if not trees:
            return Answer(NOT_A_REPO, [])
        lines = [f"<b>Worktrees of</b> <code>{esc(trees[0].path)}</code>"]
        mine = max((t for t in trees if session.working_dir.is_relative_to(t.path)), key=lambda t: len(t.path.parts), default=None)
        for tree in trees:
            here = " ← this chat" if tree is mine else ""
            lines.append(f"• {esc(tree.branch or '(detached)')} — <code>{esc(tree.path)}</code>{here}")
        lines.append("\n/worktree NAME creates one; /worktree remove NAME removes one.")
        choices = [t.branch for t in trees if t.branch and len(t.branch.encode()) <= MAX_NAME]
        return Answer("\n".join(lines), choices)

    async def go(self, session: ClaudeSession, branch: str) -> str:
        tree = next((t for t in await worktrees_of(session.working_dir) if t.branch == branch), None)
        if tree is None:
            return "That worktree is gone."
        if session.working_dir != tree.path:
            self._move(session, tree)
        return f"🌿 This chat works in <code>{esc(tree.path)}</code> on branch <b>{esc(branch)}</b> now."

    async def remove(self, session: ClaudeSession, name: str, *, confirmed: bool = False) -> Answer:
        trees = await worktrees_of(session.working_dir)
        if not trees:
            return Answer(NOT_A_REPO, [])
        if refusal := await self._name_refusal(session.working_dir, name):
            return Answer(refusal, [])
        target = trees[0].path / WORKTREES / name
        tree = next((t for t in trees if t.path == target), None)
        if tree is None:
            return Answer(f"There is no worktree {esc(name)} in <code>{esc(target.parent)}</code>.", [])
        for other in await self.manager.load_all():
            if other is not session and other.working_dir.is_relative_to(tree.path):
                return Answer(f"Chat {esc(other.record.title or other.name)} works in that worktree; move it first.", [])
        losses = await self._losses(tree)
        if losses and not confirmed:
            lines = [f"Removing worktree <b>{esc(name)}</b> would lose:", *(f"• {esc(line)}" for line in losses[:20])]
            if len(losses) > 20:
                lines.append(f"… and {len(losses) - 20} more")
            return Answer("\n".join(lines), [], confirm_remove=name)
        try:
            await git(trees[0].path, "worktree", "remove", "--force", str(tree.path), timeout=120)
            if tree.branch:
                await git(trees[0].path, "branch", "-D", tree.branch)
        except GitError as exc:
            return Answer(f"Git could not remove the worktree: {esc(exc)}", [])
        text = f"🗑 Removed worktree {esc(name)}."
        if session.working_dir.is_relative_to(tree.path):
            self._move(session, trees[0])
            text += f" This chat works in <code>{esc(trees[0].path)}</code> now."
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
