"""Operator commands, safe to run while the bot runs:

    python -m bot identity link --chat KEY --chat KEY [--name NAME]
    python -m bot identity list [--json]
    python -m bot identity show ID [--json]
    python -m bot identity unlink ID
    python -m bot notify --chat KEY [--source NAME] TEXT

`identity` needs only SESSION_DIR (environment or the configuration file); `notify` also needs
TELEGRAM_BOT_TOKEN. Exit status: 0 done, 1 failed (delivery, unreadable file), 2 bad input;
every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode

from bot.config import OperatorSettings, Settings, config_error, operator_config_files
from bot.security.ownership import foreign_owner
from bot.sessions.keys import ChatKey
from bot.turns.delimit import SOURCE
from bot.sessions.links import Link, LinkError, LinksFileError, LinkStore
from bot.turns.mirror import DeliveryFailed, MirrorSettings, parts_to_send

BAD_INPUT = 2
FAILED = 1

S = TypeVar("S", bound=BaseSettings)


# How `notify` reaches Telegram: injected by bot/__main__.py (bot/telegram/notify.py), so this module stays aiogram-free.
Deliver = Callable[[MirrorSettings, ChatKey, str, str], Awaitable[int]]


class IdentitySettings(OperatorSettings):
    """SESSION_DIR, and SESSION_CHAT_GROUPS so chats in a configured group are refused."""

    session_chat_groups: Annotated[dict[str, list[ChatKey]], NoDecode] = Field(default_factory=dict)

    @field_validator("session_chat_groups", mode="before")
    @classmethod
    def _groups(cls, value: object) -> object:
        return Settings._groups(value)  # the bot's own parser, so both read the setting alike


class CliError(Exception):
    """One line for stderr, and the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print the whole usage first
        raise CliError(f"{self.prog}: {message} (see --help)", BAD_INPUT)


def _chat_key(text: str) -> ChatKey:
    try:
        return ChatKey.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _load(settings_class: type[S]) -> S:
    try:
        return settings_class(_env_file=operator_config_files())  # type: ignore[call-arg]
    except ValidationError as exc:
        raise CliError(config_error(exc), BAD_INPUT) from None


def _same_user(session_dir: Path) -> None:
    """Files made by another user (root, say) in SESSION_DIR would lock the running bot out of them."""
    problem = foreign_owner(session_dir)
    if problem:
        raise CliError(f"error: {problem}; run this command as that user", BAD_INPUT)


def _store() -> LinkStore:
    settings = _load(IdentitySettings)
    _same_user(settings.session_dir)
    return LinkStore(settings.session_dir, settings.session_chat_groups)


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def _as_json(link: Link) -> dict[str, Any]:
    return {**link.model_dump(mode="json"), "session": link.session_name}


def _link(options: argparse.Namespace) -> None:
    print(_store().create(options.chat, options.name).id)


def _list(options: argparse.Namespace) -> None:
    links = _store().load()
    if options.json:
        print(json.dumps([_as_json(link) for link in links], indent=1))
        return
    if not links:
        print("No links.")
    for link in links:
        members = ", ".join(str(key) for key in link.members)
        print(f"{link.id}  {link.name or '-'}  {members}  (updated {_when(link.updated_at)})")


def _show(options: argparse.Namespace) -> None:
    link = _store().get(options.id)
    if link is None:
        raise LinkError(f"There is no link with id {options.id!r}.")
    if options.json:
        print(json.dumps(_as_json(link), indent=1))
        return
    print(f"Link {link.id}" + (f" ({link.name})" if link.name else ""))
    print(f"Session: {link.session_name}")
    print("Members: " + ", ".join(str(key) for key in link.members))
    print(f"Created: {_when(link.created_at)}")
    print(f"Updated: {_when(link.updated_at)}")


def _unlink(options: argparse.Namespace) -> None:
    link = _store().delete(options.id)
    members = ", ".join(str(key) for key in link.members)
    print(f"Removed link {link.id}; chats {members} are back in their own sessions.")


def _notify(deliver: Deliver | None, options: argparse.Namespace) -> None:
    settings = _load(MirrorSettings)
    _same_user(settings.session_dir)
    parts_to_send(options.text)  # an empty text is bad input, found before connecting
    if deliver is None:
        raise CliError("error: notify needs the Telegram delivery that `python -m bot notify` provides", FAILED)
    try:
        message_id = asyncio.run(deliver(settings, options.chat, options.text, options.source))
    except DeliveryFailed as exc:
        raise CliError(f"error: {exc}", FAILED) from None
    print(message_id)


def _parser(deliver: Deliver | None) -> _Parser:
    parser = _Parser(prog="python -m bot", description="Operator commands for the Claude Telegram bot.")
    commands = parser.add_subparsers(dest="command", required=True)

    identity = commands.add_parser("identity", help="chats that share one Claude conversation")
    actions = identity.add_subparsers(dest="action", required=True)
    link = actions.add_parser("link", help="link two or more chats; prints the new link id")
    link.add_argument("--chat", action="append", type=_chat_key, required=True, metavar="KEY",
                      help="CHAT_ID or CHAT_ID_TOPIC_ID; give it once per chat")
    link.add_argument("--name", help="a label for the link")
    link.set_defaults(run=_link)
    listing = actions.add_parser("list", help="every link")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_list)
    show = actions.add_parser("show", help="one link")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_show)
    unlink = actions.add_parser("unlink", help="remove a link; its chats return to their own sessions")
    unlink.add_argument("id")
    unlink.set_defaults(run=_unlink)

    notify = commands.add_parser("notify", help="send a message to a chat and let Claude know it was sent")
    notify.add_argument("--chat", type=_chat_key, required=True, metavar="KEY")
    notify.add_argument("--source", default="notify", type=_source,
                        help="who sent it, one short word (letters, digits, _ . -) as Claude will be told (default: notify)")
    notify.add_argument("text")
    notify.set_defaults(run=partial(_notify, deliver))
    return parser


def _source(text: str) -> str:
    if not SOURCE.match(text):
        raise argparse.ArgumentTypeError("a source is one word of up to 32 letters, digits, '_', '.' or '-'")
    return text


def _glue_chat_values(args: list[str]) -> list[str]:
    """`--chat -1001234_7` -> `--chat=-1001234_7`: argparse would take the key for an option."""
    glued: list[str] = []
    for arg in args:
        if glued and glued[-1] == "--chat" and arg.startswith("-") and arg[1:2].isdigit():
            glued[-1] = f"--chat={arg}"
        else:
            glued.append(arg)
    return glued


def main(args: list[str], deliver: Deliver | None = None) -> int:
    try:
        options = _parser(deliver).parse_args(_glue_chat_values(args))
        run: Callable[[argparse.Namespace], None] = options.run
        run(options)
    except CliError as exc:
        print(exc, file=sys.stderr)
        return exc.status
    except ValueError as exc:  # LinkError, or e.g. an empty notify text
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except (LinksFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return FAILED
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    return 0
