"""A reviewed chat for the tests: a committed repository and a turn that changed three files in it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bot.features.diff import ChangeTracker
from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef, SessionRecord
from bot.sessions.session import ClaudeSession
from bot.sessions.store import SessionStore
from bot.webapp.auth import Viewer
from bot.webapp.review import Reviews
from tests.e2e.git_repo import git, make_repo

ANN = Viewer(42, "Ann", time.time())
OLD = "".join(f"line {n}\n" for n in range(1, 31))


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[ChatKey, str]] = []

    async def send_text(self, key: ChatKey, text: str, **_: Any) -> int:
        self.sent.append((key, text))
        return len(self.sent)


class Sessions:
    def __init__(self, *sessions: ClaudeSession) -> None:
        self.by_key = {ChatKey.parse(s.record.name): s for s in sessions}

    async def existing(self, key: ChatKey) -> ClaudeSession | None:
        return self.by_key.get(key)


def session_of(tmp_path: Path, name: str, directory: Path, users: list[int]) -> ClaudeSession:
    record = SessionRecord(name=name, chat_id=ChatKey.parse(name).chat_id, working_dir=str(directory), users=users, title=f"chat {name}")
    return ClaudeSession(record=record, store=SessionStore(tmp_path / "sessions"))


async def reviewed(tmp_path: Path, busy: bool = False) -> tuple[Path, ClaudeSession, Reviews, Outbox, ChangeRef]:
    repo = make_repo(tmp_path / "repo", {"a.py": OLD, "b.txt": "keep\n", "gone.txt": "bye\n"})
    git(repo, "config", "user.name", "Ann")
    git(repo, "config", "user.email", "ann@example.com")
    session = session_of(tmp_path, "42", repo, [42])
    tracker = ChangeTracker()
    before = await tracker.before(session)
    (repo / "a.py").write_text(OLD.replace("line 2\n", "line two\n").replace("line 28\n", "line twenty-eight\n"))
    (repo / "new.txt").write_text("alpha\n")
    (repo / "gone.txt").unlink()
    change = await tracker.after(session, before, "Tidy the lines\nand more")
    assert change is not None and change.prompt.startswith("Tidy")
    outbox = Outbox()
    reviews = Reviews(sessions=Sessions(session), members=lambda name: [], allowed_chats=[], busy=lambda s: busy, outbox=outbox)
    return repo, session, reviews, outbox, change
