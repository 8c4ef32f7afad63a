"""/help lists every command of the menu with how it is typed; /start is not a copy of it."""

from pathlib import Path

from bot.features.texts import COMMANDS, USAGE, help_text, start_text, status_text
from bot.sessions.records import SessionRecord
from bot.sessions.session import ClaudeSession
from bot.sessions.store import SessionStore
from bot.turns.live import Activity


def session(tmp_path: Path) -> ClaudeSession:
    return ClaudeSession(record=SessionRecord(name="1", working_dir=str(tmp_path)), store=SessionStore(tmp_path / "s"))


def test_help_shows_every_menu_command_with_its_arguments(tmp_path: Path) -> None:
    typed = {usage.split()[0].removeprefix("/") for usage, _ in USAGE}
    assert {name for name, _ in COMMANDS} - {"start", "help"} == typed
    text = help_text(session(tmp_path))
    assert "\n/cd &lt;path&gt; — " in text and "\n/link [CODE] — " in text  # plain, so Telegram makes them tappable
    assert text.index("/new") < text.index("/cd") and len(text.splitlines()) <= 18  # one phone screen, most used first
    assert all(len(line) <= 64 for line in text.splitlines()[1:-1])
    assert start_text(session(tmp_path)) != text and "/help lists the commands" in start_text(session(tmp_path))


def test_status_counts_one_turn_in_the_singular(tmp_path: Path) -> None:
    chat = session(tmp_path)
    chat.record.totals.turns = 1
    assert "Totals: 1 turn ·" in status_text("1", chat, Activity(), 1)
    chat.record.totals.turns = 2
    assert "Totals: 2 turns ·" in status_text("1", chat, Activity(), 1)
