"""What is persisted for one conversation: the JSON record of a chat's (or a link's) session."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.errors import Unreadable

RECORD_VERSION = 1
# One step per version: MIGRATIONS[n] turns a version-n record (as JSON data) into a version-(n+1) one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class NewerRecord(Unreadable):
    """A session file written by a newer version of the bot: left as it is, never read as this version."""


class PastSession(BaseModel):
    """An earlier Claude conversation of this chat, kept so `/resume` can bring it back."""

    session_id: str
    title: str = ""
    working_dir: str = ""
    ended_at: float = Field(default_factory=time.time)


class Usage(BaseModel):
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0


class Totals(Usage):
    turns: int = 0


class LastTurn(Usage):
    context_tokens: int = 0
    context_window: int = 0
    duration_ms: int = 0


class ChangeRef(BaseModel):
    """What one turn changed in a git work tree: two tree objects (snapshots) and the numbers for its line."""

    repo: str
    base: str
    head: str
    files: int = 0
    added: int = 0
    removed: int = 0
    prompt: str = ""  # the turn's request (its first lines): the review page's commit message starts from it


class RecordedAnswer(BaseModel):
    """How a turn ended, as the journal keeps it until the chat shows it (so a restart shows it without asking again)."""

    kind: Literal["finish", "stopped", "fail"]
    text: str = ""  # Claude's answer (so far)
    sentence: str = ""  # why it failed (kind "fail")
    changed: ChangeRef | None = None  # what it changed in a git work tree


class SessionRecord(BaseModel):
    """One file in SESSION_DIR. `name` is the file stem: a chat key, `link-<id>` or `group-<name>`."""

    version: int = RECORD_VERSION
    name: str
    chat_id: int | None = None
    thread_id: int | None = None
    title: str = ""
    session_id: str | None = None
    working_dir: str
    created_at: float = Field(default_factory=time.time)
    saved_at: float = 0.0
    last_activity: float = Field(default_factory=time.time)
    history: list[PastSession] = Field(default_factory=list)
    totals: Totals = Field(default_factory=Totals)
    last_turn: LastTurn | None = None
    # Cumulative cost the CLI last reported for `session_id`, to turn its running total into per-turn costs.
    session_cost_seen: float = 0.0
    permission_mode: str | None = None
    model: str | None = None
    always_allow: list[dict] = Field(default_factory=list)
    users: list[int] = Field(default_factory=list)  # who has written to it: /sessions in a private chat lists only theirs
    # Usage per UTC day ("2026-11-30"): /usage and the daily budgets read it, so restarts reset nothing.
    daily_usage: dict[str, Totals] = Field(default_factory=dict)
    # Told to Claude at the start of the next prompt (e.g. "this chat moved to worktree X"), then dropped.
    notes_for_claude: list[str] = Field(default_factory=list)
    # Claude Code's slash commands and skills as its init message listed them for `claude_commands_dir`.
    claude_commands: list[str] = Field(default_factory=list)
    claude_skills: list[str] = Field(default_factory=list)
    claude_commands_dir: str = ""
    changes: list[ChangeRef] = Field(default_factory=list)  # the latest turns' file changes, for /diff


def load_record(raw: str, *, current: int = RECORD_VERSION) -> SessionRecord:
    """A stored record brought up to this version, step by step; ValueError (pydantic's included) when it is not
    a record, NewerRecord when a newer bot wrote it."""
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    version = data.get("version", 1)
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"bad record version {version!r}")
    if version > current:
        raise NewerRecord(
            f"The session file {data.get('name', '?')}.json was written by a newer version of the bot (record version "
            f"{version}, this one reads up to {current}); upgrade the bot to use this chat."
        )
    for step in range(version, current):
        data = MIGRATIONS[step](data) | {"version": step + 1}
    return SessionRecord.model_validate(data)
