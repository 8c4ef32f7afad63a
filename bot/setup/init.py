"""`tg-claude-code init`: from nothing to a configuration file `make run` serves from, in the terminal.

It asks for the token (checked with getMe), takes the operator's user id from a message they send
the bot, asks for the workspace (created), finds Claude's credentials or offers to log in, and
writes the file (mode 0600). Run again, it edits that file: every other line stays. Each question
has a flag (--token, --user-id, --workspace, --yes), so it can run from a script.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.claude.credentials import ENV_CREDENTIALS, find_credentials
from bot.config import CONFIG_ENV, DEFAULT_API_URL, default_session_dir, user_config_file
from bot.config_sources import is_placeholder, read_file
from bot.security.layout import layout_problem
from bot.setup.envfile import write_settings
from bot.setup.login import login
from bot.setup.terminal import Terminal
from bot.util.botapi import ApiUnreachable, BotIdentity, PollConflict, Sender, TokenRefused

Probe = Callable[[str, str], Awaitable[BotIdentity]]
FirstMessage = Callable[[str, str, float, Callable[[], None]], Awaitable[Sender | None]]

DEFAULT_WORKSPACE = "~/claude-work"
BAD_INPUT = 2
FAILED = 1


class InitFailed(Exception):
    """One sentence, and the exit status."""

    def __init__(self, message: str, status: int = FAILED) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Telegram:
    probe: Probe
    first_message: FirstMessage


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"{prog} init", description="Set the bot up: writes its configuration file (mode 600).")
    p.add_argument("--token", help="the bot token from @BotFather")
    p.add_argument("--user-id", type=int, help="your Telegram user id (otherwise: send the bot a message)")
    p.add_argument("--workspace", type=Path, help=f"the directory Claude Code works in (default {DEFAULT_WORKSPACE})")
    p.add_argument("--wait", type=float, default=300, metavar="SECONDS", help="how long to wait for your message (300)")
    p.add_argument("--yes", action="store_true", help="ask nothing: take the flags, the file's values and the defaults")
    return p


def config_path() -> Path:
    explicit = os.environ.get(CONFIG_ENV)
    return Path(explicit).expanduser().resolve() if explicit else user_config_file()


def _run(coro: Awaitable[object]) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


class Init:
    def __init__(self, options: argparse.Namespace, term: Terminal, telegram: Telegram) -> None:
        self.options = options
        self.term = term
        self.telegram = telegram
        self.path = config_path()
        self.current = read_file(self.path) if self.path.is_file() else {}
        self.api_url = os.environ.get("TELEGRAM_API_URL") or self.current.get("TELEGRAM_API_URL") or DEFAULT_API_URL
        self.values: dict[str, str] = {}

    def _current(self, name: str) -> str:
        value = self.current.get(name, "")
        return "" if is_placeholder(name, value) else value

    def token(self) -> tuple[str, BotIdentity]:
        given = self.options.token or (self._current("TELEGRAM_BOT_TOKEN") if self.options.yes else None)
        while True:
            token = given or self.term.secret(
                "Bot token from @BotFather (/newbot gives one)" + (", Enter keeps the current one" if self._current("TELEGRAM_BOT_TOKEN") else "")
            ) or self._current("TELEGRAM_BOT_TOKEN")
            if not token:
                if self.options.yes:
                    raise InitFailed("TELEGRAM_BOT_TOKEN is needed: pass --token (from @BotFather)", BAD_INPUT)
                continue
            try:
                return token, _run(self.telegram.probe(token, self.api_url))  # type: ignore[return-value]
            except TokenRefused as exc:
                if given or self.options.yes:
                    raise InitFailed(f"TELEGRAM_BOT_TOKEN: {exc}; copy it again from @BotFather", BAD_INPUT) from None
                self.term.say(f"{exc}; copy the token again from @BotFather (/mybots → your bot → API Token).")
                given = None
            except ApiUnreachable as exc:
                raise InitFailed(f"the Bot API at {self.api_url} is not reachable ({exc}); check the network and TELEGRAM_API_URL") from None

    def user(self, token: str, bot: BotIdentity) -> list[int]:
        users = [int(part) for part in self._current("ALLOWED_USERS").split(",") if part.strip().lstrip("-").isdigit()]
        if self.options.user_id is not None:
            return list(dict.fromkeys([*users, self.options.user_id]))
        if users and self.options.yes:
            return users
        if users and not self.term.confirm(f"Allowed users now: {', '.join(map(str, users))}. Add another one?", default=False):
            return users
        wait = self.options.wait
        prompt = f"Now send any message to @{bot.username} in Telegram (https://t.me/{bot.username}); waiting up to {wait:.0f} s…"
        try:
            sender = _run(self.telegram.first_message(token, self.api_url, wait, lambda: self.term.say(prompt)))
        except PollConflict:
            raise InitFailed(
                "Telegram refuses to hand out messages: another process polls with this token (is the bot already "
                "running?), or a webhook is set; stop it, or pass --user-id"
            ) from None
        except ApiUnreachable as exc:
            raise InitFailed(f"the Bot API at {self.api_url} is not reachable ({exc})") from None
        if not isinstance(sender, Sender):
            raise InitFailed(f"no message reached @{bot.username} within {wait:.0f} s; run init again, or pass --user-id")
        who = f"{sender.name} (@{sender.username})" if sender.username else sender.name
        self.term.say(f"Message from {who}, user id {sender.user_id}.")
        if not self.options.yes and not self.term.confirm(f"Let {who} use the bot?"):
            raise InitFailed("nobody allowed: run init again and send the message from your own account", BAD_INPUT)
        return list(dict.fromkeys([*users, sender.user_id]))

    def workspace(self) -> Path:
        default = self._current("CLAUDE_WORKING_DIR") or DEFAULT_WORKSPACE
        given = self.options.workspace
        while True:
            answer = str(given) if given else (default if self.options.yes else self.term.ask("Directory Claude Code works in (created if missing)", default))
            path = Path(answer).expanduser().resolve()
            sessions = Path(self._current("SESSION_DIR") or default_session_dir()).expanduser().resolve()
            problem = layout_problem(working_dir=path, allowed_paths=[path], session_dir=sessions, config_files=[self.path])
            if problem is None and path.exists() and not path.is_dir():
                problem = f"{path} is not a directory"
            if problem is None:
                path.mkdir(parents=True, exist_ok=True)
                return path
            if given or self.options.yes:
                raise InitFailed(f"CLAUDE_WORKING_DIR: {problem}", BAD_INPUT)
            self.term.say(f"{problem}.")

    def credentials(self) -> None:
        in_file = {name: value for name, value in self.current.items() if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_"))}
        found = find_credentials({**os.environ, **in_file})
        if found in ENV_CREDENTIALS and found not in in_file:
            # Set in this shell only: a service (or another terminal) would start the bot without it.
            if self.options.yes or self.term.confirm(f"{found} is set in this shell only. Write it into {self.path} so the bot has it wherever it starts?"):
                self.values[found] = os.environ[found]
                for name in ("ANTHROPIC_BASE_URL",):
                    if os.environ.get(name) and name not in in_file:
                        self.values[name] = os.environ[name]
            self.term.say(f"Claude credentials: {found}.")
            return
        if found:
            self.term.say(f"Claude credentials: {found}{' (in the file)' if found in in_file else ''}.")
            return
        if self.options.yes:
            self.term.say("No Claude credentials yet: run `tg-claude-code login` (a Claude subscription), or put ANTHROPIC_API_KEY=… in the file.")
            return
        choice = self.term.ask(
            "Claude Code has no credentials. [1] log in with your Claude subscription, [2] paste an Anthropic API key, [3] later", "1"
        )
        if choice == "1":
            login(self.term, self.path)
        elif choice == "2":
            key = self.term.secret("ANTHROPIC_API_KEY (from console.anthropic.com)")
            if key:
                self.values["ANTHROPIC_API_KEY"] = key

    def run(self) -> int:
        action = "edits" if self.path.is_file() else "creates"
        self.term.say(f"Setting up: this {action} {self.path}; only the settings asked for here change.")
        token, bot = self.token()
        self.term.say(f"Telegram accepts the token: the bot is {bot.name or bot.username} (@{bot.username}).")
        users = self.user(token, bot)
        workspace = self.workspace()
        self.values.update(TELEGRAM_BOT_TOKEN=token, ALLOWED_USERS=",".join(map(str, users)), CLAUDE_WORKING_DIR=str(workspace))
        self.credentials()
        write_settings(self.path, self.values)
        self.term.say(f"Wrote {self.path} (mode 600): allowed users {', '.join(map(str, users))}, workspace {workspace}.")
        self.term.say(f"Start the bot with:  {start_command(self.path)}")
        return 0


def start_command(path: Path) -> str:
    in_checkout = Path("Makefile").is_file() and Path("bot", "__main__.py").is_file()
    command = "make run" if in_checkout else "tg-claude-code"
    explicit = os.environ.get(CONFIG_ENV)
    return f"{CONFIG_ENV}={path} {command}" if explicit else command


def main(args: list[str], prog: str, telegram: Telegram, term: Terminal | None = None) -> int:
    options = parser(prog).parse_args(args)
    term = term or Terminal()
    try:
        return Init(options, term, telegram).run()
    except InitFailed as exc:
        term.say(f"init: {exc}.")
        return exc.status
    except KeyboardInterrupt:
        term.say("\ninit: stopped; nothing was written.")
        return 130
