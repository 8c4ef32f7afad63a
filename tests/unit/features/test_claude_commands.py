"""bot.features.claude_commands: what a chat may pass to Claude Code."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.features import claude_commands
from bot.sessions.records import SessionRecord
from bot.sessions.session import ClaudeSession
from bot.sessions.store import SessionStore


@pytest.fixture()
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClaudeSession:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "config"))
    project = tmp_path / "project"
    (project / ".claude" / "commands" / "sub").mkdir(parents=True)
    (project / ".claude" / "commands" / "greet.md").write_text("---\ndescription: 'Greet'\n---\nHi $ARGUMENTS\n")
    (project / ".claude" / "commands" / "sub" / "Deploy-App.md").write_text("Deploy it\n")
    (project / ".claude" / "skills" / "tidy").mkdir(parents=True)
    (project / ".claude" / "skills" / "tidy" / "SKILL.md").write_text("---\nname: tidy\ndescription: Tidy up\n---\n")
    (tmp_path / "config" / "commands").mkdir(parents=True)
    (tmp_path / "config" / "commands" / "mine.md").write_text("My own command\n")
    return ClaudeSession(record=SessionRecord(name="1", working_dir=str(project)), store=SessionStore(tmp_path / "s"))


def test_parse_drops_the_bot_mention() -> None:
    assert claude_commands.parse("/greet@my_bot Bob and Alice ") == ("greet", "my_bot", "Bob and Alice")
    assert claude_commands.parse("/context") == ("context", "", "")


def test_before_the_first_turn_scanned_commands_and_the_terminal_free_builtins(session: ClaudeSession) -> None:
    found = {c.name: c.description for c in claude_commands.available(session)}
    assert found["greet"] == "Greet" and found["Deploy-App"] == "Deploy it" and found["tidy"] == "Tidy up"
    assert found["mine"] == "My own command"
    assert "compact" in found and "clear" not in found and "config" not in found


async def test_after_an_init_message_builtins_are_what_claude_code_listed(session: ClaudeSession) -> None:
    session.remember_claude_commands(["greet", "compact", "clear", "plug:run"], ["deep-research"])
    names = {c.name for c in claude_commands.available(session)}
    assert {"greet", "compact", "plug:run", "deep-research", "tidy"} <= names
    assert "context" not in names and "clear" not in names
    session.record.working_dir = "/elsewhere"  # recorded for another directory: not used there
    assert "plug:run" not in {c.name for c in claude_commands.available(session)}


def test_the_menu_keeps_names_telegram_accepts_and_the_bots_own_first(session: ClaudeSession) -> None:
    menu = claude_commands.menu(session, [("help", "The commands"), ("compact", "ours")])
    names = [name for name, _ in menu]
    assert names[:2] == ["help", "compact"] and names.count("compact") == 1
    assert "greet" in names and "Deploy-App" not in names
