"""The bot's own commands, one entry each: the menu, /help and the handlers (tests/unit/features/test_commands.py
checks that every entry has its handler and every command handler its entry)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BotCommand:
    name: str
    description: str  # the command menu's line
    usage: str = ""  # as typed, with its arguments ([optional], <required>)
    explained: str = ""  # /help's line; empty: not listed there (/start, /help itself)


BOT_COMMANDS: list[BotCommand] = [
    BotCommand("start", "What this bot is and this chat's directory"),
    BotCommand("help", "The commands"),
    BotCommand("new", "Start a fresh conversation in this chat", "/new", "fresh conversation (the old one: /resume)"),
    BotCommand("stop", "Interrupt the running turn", "/stop", "interrupt the running turn"),
    BotCommand("status", "This chat's session, directory and costs", "/status", "session, what runs, directory, costs"),
    BotCommand("cd", "Show or change this chat's working directory", "/cd <path>", "change the directory; alone: show it"),
    BotCommand("resume", "Switch back to an earlier conversation", "/resume", "back to an earlier conversation"),
    BotCommand("mode", "Show or set when Claude asks before using tools", "/mode [mode]", "when Claude asks before tools"),
    BotCommand("model", "Show or set this chat's Claude model", "/model [name]", "this chat's model"),
    BotCommand("file", "Send a file from this chat's directory", "/file <path>", "send a file from the directory"),
    BotCommand("diff", "What Claude's last turn changed in the files", "/diff", "what the last turn changed"),
    BotCommand("worktree", "A git worktree and branch for this chat", "/worktree [NAME | remove NAME]", "a git worktree for this chat"),
    BotCommand("export", "This chat's conversation as a Markdown file", "/export", "the conversation as Markdown"),
    BotCommand("usage", "Tokens and cost: this chat and the whole bot", "/usage", "tokens and cost"),
    BotCommand("sessions", "Every session the bot holds", "/sessions [cleanup]", "every session the bot holds"),
    BotCommand("link", "Share this chat's conversation with another chat", "/link [CODE]", "share this conversation with a chat"),
    BotCommand("unlink", "Leave the shared conversation", "/unlink", "leave the shared conversation"),
    BotCommand("links", "This chat's link and its members", "/links", "this chat's link and members"),
]
