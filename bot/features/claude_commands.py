"""Claude Code's own slash commands in a chat: the ones the bot does not define are passed on when Claude Code knows them.

Claude Code lists a directory's commands in its init message (`slash_commands`, `skills`); the turn's
outcome carries them and they are recorded per session (`ClaudeSession.remember_claude_commands`).
Custom commands (`.claude/commands/*.md`) and skills (`.claude/skills/*/SKILL.md`) of the project and
the user are also found by scanning, so they work before the chat's first turn.
Of the built-ins only those that make sense without a terminal are passed on.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from bot.sessions.session import ClaudeSession
from bot.util.text import esc

# Built-in commands whose result is text in the conversation (no terminal UI, no local settings).
BUILTINS: dict[str, str] = {
    "compact": "Summarize the conversation to free context",
    "context": "How full the context window is",
    "cost": "What this conversation cost",
    "init": "Write a CLAUDE.md for this project",
    "review": "Review a pull request",
    "security-review": "Security review of the pending changes",
    "pr-comments": "Comments of a GitHub pull request",
    "release-notes": "Claude Code's release notes",
    "insights": "A report on your Claude Code sessions",
    "recap": "Recap of this conversation",
}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.-]{0,63}$")
MENU_NAME = re.compile(r"^[a-z0-9_]{1,32}$")  # what Telegram accepts in the command menu
HELP_SHOWN = 12  # Claude Code's commands named in /help's one line


@dataclass(frozen=True)
class ClaudeCommand:
    name: str
    description: str


def parse(text: str) -> tuple[str, str, str]:
    """'/name@bot args' → ('name', 'bot', 'args')."""
    head, _, args = text.strip().partition(" ")
    name, _, mention = head[1:].partition("@")
    return name, mention, args.strip()


def _config_dir() -> Path:
    return Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")


def _description(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")[:4000]
    except OSError:
        return ""
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        for line in lines[1 : lines.index("---", 1) if "---" in lines[1:] else len(lines)]:
            key, _, value = line.partition(":")
            if key.strip() == "description":
                return value.strip().strip("'\"")
    return next((line.strip() for line in lines if line.strip() and line.strip() != "---"), "")


def scan(directory: Path) -> list[ClaudeCommand]:
    """Custom commands and skills of `directory` (and its parents) and of the user."""
    roots = [d / ".claude" for d in (directory, *directory.parents)] + [_config_dir()]
    found: dict[str, ClaudeCommand] = {}
    for root in roots:
        for path in sorted((root / "commands").glob("**/*.md")) if (root / "commands").is_dir() else []:
            found.setdefault(path.stem, ClaudeCommand(path.stem, _description(path)))
        for path in sorted((root / "skills").glob("*/SKILL.md")) if (root / "skills").is_dir() else []:
            found.setdefault(path.parent.name, ClaudeCommand(path.parent.name, _description(path)))
    return [command for command in found.values() if NAME.match(command.name)]


def available(session: ClaudeSession) -> list[ClaudeCommand]:
    """What this chat can pass to Claude Code: custom commands, skills and the terminal-free built-ins."""
    record = session.record
    commands = {c.name: c for c in scan(session.working_dir)}
    if record.claude_commands_dir == record.working_dir:
        listed = set(record.claude_commands)
        for name in record.claude_skills + [n for n in record.claude_commands if ":" in n]:  # skills, plugin commands
            commands.setdefault(name, ClaudeCommand(name, "Skill" if name in record.claude_skills else "Plugin command"))
        builtins = {name: text for name, text in BUILTINS.items() if name in listed}
    else:
        builtins = BUILTINS  # not seen yet: Claude Code has these in every directory
    for name, text in builtins.items():
        commands.setdefault(name, ClaudeCommand(name, text))
    return sorted(commands.values(), key=lambda c: c.name)


def find(session: ClaudeSession, name: str) -> ClaudeCommand | None:
    return next((c for c in available(session) if c.name == name), None)


def help_lines(session: ClaudeSession, own: set[str]) -> list[str]:
    """For /help: Claude Code's commands this chat can use (the bot's own names win)."""
    commands = [c for c in available(session) if c.name not in own]
    if not commands:
        return []
    # Folded into one line (the chat's command menu shows each with what it does), so /help fits a phone screen.
    names = " ".join(f"/{esc(c.name)}" for c in commands[:HELP_SHOWN])
    more = f" and {len(commands) - HELP_SHOWN} more in the menu" if len(commands) > HELP_SHOWN else ""
    return [f"<b>Claude Code's commands here</b>: {names}{more}"]


def menu(session: ClaudeSession, own: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The chat's command menu: the bot's commands, then Claude Code's whose names Telegram accepts (100 at most)."""
    names = {name for name, _ in own}
    extra = [
        (c.name, (c.description or "Claude Code command")[:256])
        for c in available(session)
        if c.name not in names and MENU_NAME.match(c.name)
    ]
    return (own + extra)[:100]
