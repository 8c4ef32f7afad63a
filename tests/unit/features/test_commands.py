"""One table of the bot's commands (bot/features/commands.py): every entry has a handler, every command handler an entry."""

import ast
from pathlib import Path

from bot.features.commands import BOT_COMMANDS
from handlers.settings import SETTINGS

HANDLERS = Path(__file__).resolve().parents[3] / "handlers"


def handled_commands(source: str) -> set[str]:
    """The names in `Command("name")` / `CommandStart()` filters of a handler module."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "Command":
                names |= {arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
                names |= {"<computed>" for arg in node.args if not isinstance(arg, ast.Constant)}
            elif node.func.id == "CommandStart":
                names.add("start")
    return names


def test_every_command_in_the_table_has_a_handler_and_no_handler_has_a_command_outside_it() -> None:
    handled = set().union(*(handled_commands(path.read_text()) for path in HANDLERS.glob("*.py")))
    handled.discard("<computed>")  # handlers/settings.py registers /mode and /model from its own list
    handled |= {setting.command for setting in SETTINGS}
    assert handled == {command.name for command in BOT_COMMANDS}


def test_names_are_unique_and_usages_start_with_the_name() -> None:
    names = [command.name for command in BOT_COMMANDS]
    assert len(names) == len(set(names))
    assert all(c.usage.split()[0] == f"/{c.name}" for c in BOT_COMMANDS if c.explained)
