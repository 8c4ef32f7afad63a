"""Links: chats that share one Claude conversation, kept in SESSION_DIR/identity-map.json.

The bot and the operator CLI both change this file, so every read-modify-write holds an
exclusive flock on a sibling lock file and replaces the file atomically. Plain reads need no
lock (a reader sees the old file or the new one, never half of one), so resolving a message's
session never waits for the CLI.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, ValidationError

from bot.errors import Refused, Unreadable
from bot.security.ownership import UntrustedFile, read_trusted
from bot.sessions.keys import ChatKey
from bot.util.files import ensure_private_dir, exclusive, write_text_atomic

log = logging.getLogger(__name__)

LINKS_FILE = "identity-map.json"
LOCK_FILE = "identity-map.lock"
LINKS_VERSION = 1
LINK_PREFIX = "link-"
GROUP_PREFIX = "group-"
NAME_LIMIT = 64

T = TypeVar("T")


class LinkError(Refused):
    """A refused change; the message is one sentence a user or operator can act on."""


class LinksFileError(Unreadable):
    """The links file cannot be read; it is left as it is."""


def _key(value: object) -> object:
    return ChatKey.parse(str(value)) if isinstance(value, (str, int)) else value


# Stored as the chat key's text ("-1001234_7"), like session file names.
StoredKey = Annotated[ChatKey, BeforeValidator(_key), PlainSerializer(str, return_type=str)]


class Link(BaseModel):
    id: str
    name: str | None = None
    members: list[StoredKey]
    created_at: float
    updated_at: float

    @property
    def session_name(self) -> str:
        return f"{LINK_PREFIX}{self.id}"

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


class LinksDocument(BaseModel):
    version: int = LINKS_VERSION
    links: list[Link] = Field(default_factory=list)


def _clean_name(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    name = " ".join(name.split())
    if len(name) > NAME_LIMIT:
        raise LinkError(f"A link name can have at most {NAME_LIMIT} characters.")
    return name


def _append_new(links: list[Link], members: list[ChatKey], name: str | None) -> Link:
    taken = {link.id for link in links}
    link_id = secrets.token_hex(4)
    while link_id in taken:
        link_id = secrets.token_hex(4)
    now = time.time()
    link = Link(id=link_id, name=name, members=members, created_at=now, updated_at=now)
    links.append(link)
    return link


class LinkStore:
    def __init__(self, session_dir: Path, groups: Mapping[str, Sequence[ChatKey]] | None = None) -> None:
        self.session_dir = session_dir
        self.path = session_dir / LINKS_FILE
        self.lock_path = session_dir / LOCK_FILE
        # Chats in a configured chat group already share a session; they cannot also be linked.
        self._grouped = {key: name for name, keys in (groups or {}).items() for key in keys}

    def load(self) -> list[Link]:
        try:
            raw = read_trusted(self.path)
        except FileNotFoundError:
            return []
        except UntrustedFile as exc:
            raise LinksFileError(f"{exc}; the bot does not trust it.") from None
        except OSError as exc:
            raise LinksFileError(f"Cannot read {self.path}: {exc.strerror}.") from None
        try:
            document = LinksDocument.model_validate_json(raw)
        except ValidationError as exc:
            raise LinksFileError(f"{self.path} is not a valid links file ({exc.error_count()} error(s)).") from None
        if document.version > LINKS_VERSION:
            raise LinksFileError(f"{self.path} was written by a newer version of the bot (version {document.version}).")
        return document.links

    def get(self, link_id: str) -> Link | None:
        return next((link for link in self.load() if link.id == link_id), None)

    def create(self, members: list[ChatKey], name: str | None = None) -> Link:
        name = _clean_name(name)
        if len(members) < 2:
            raise LinkError("A link needs at least two chats.")
        duplicate = next((key for i, key in enumerate(members) if key in members[:i]), None)
        if duplicate is not None:
            raise LinkError(f"Chat {duplicate} is listed twice.")

        def change(links: list[Link]) -> Link:
            for key in members:
                self._check_free(links, key)
            return _append_new(links, list(members), name)

        return self._modify(change)

    def join(self, source: ChatKey, key: ChatKey) -> Link:
        """Pairing: `key` joins the link of `source`, or both start a new link."""
        if source == key:
            raise LinkError("The code was made in this chat; send /link <code> in the other chat.")

        def change(links: list[Link]) -> Link:
            current = next((link for link in links if key in link.members), None)
            home = next((link for link in links if source in link.members), None)
            if current is not None and current is home:
                raise LinkError(f"This chat is already in link {current.label}.")
            self._check_free(links, key)
            if home is None:
                self._check_free(links, source)
                return _append_new(links, [source, key], None)
            index = links.index(home)
            links[index] = home.model_copy(update={"members": [*home.members, key], "updated_at": time.time()})
            return links[index]

        return self._modify(change)

    def remove_member(self, key: ChatKey) -> Link | None:
        """Take `key` out of its link; a link left with one chat is removed. Returns the link as it was."""

        def change(links: list[Link]) -> Link | None:
            link = next((link for link in links if key in link.members), None)
            if link is None:
                return None
            index = links.index(link)
            remaining = [member for member in link.members if member != key]
            if len(remaining) < 2:
                del links[index]
            else:
                links[index] = link.model_copy(update={"members": remaining, "updated_at": time.time()})
            return link

        return self._modify(change)

    def replace_member(self, old: ChatKey, new: ChatKey) -> bool:
        """A member chat got a new id (a group upgraded to a supergroup); False if it was in no link."""

        def change(links: list[Link]) -> bool:
            found = False
            for index, link in enumerate(links):
                if old in link.members:
                    members = [new if key == old else key for key in link.members]
                    links[index] = link.model_copy(update={"members": members, "updated_at": time.time()})
                    found = True
            return found

        return self._modify(change)

    def delete(self, link_id: str) -> Link:
        def change(links: list[Link]) -> Link:
            return links.pop(self._index(links, link_id))

        return self._modify(change)

    def _modify(self, change: Callable[[list[Link]], T]) -> T:
        ensure_private_dir(self.session_dir)
        with exclusive(self.lock_path):
            links = self.load()
            before = list(links)  # links are replaced, never changed in place
            result = change(links)
            if links != before:
                document = LinksDocument(links=links)
                write_text_atomic(self.path, document.model_dump_json(indent=1) + "\n")
            return result

    def _check_free(self, links: list[Link], key: ChatKey) -> None:
        group = self._grouped.get(key)
        if group is not None:
            raise LinkError(f"Chat {key} is in the configured chat group {group!r}, so it cannot also be linked.")
        link = next((link for link in links if key in link.members), None)
        if link is not None:
            raise LinkError(f"Chat {key} is already in link {link.label}; unlink it first.")

    @staticmethod
    def _index(links: list[Link], link_id: str) -> int:
        for index, link in enumerate(links):
            if link.id == link_id:
                return index
        raise LinkError(f"There is no link with id {link_id!r}.")


class SessionRoutes:
    """bot.sessions.manager.Route for the running bot: configured chat groups first, then links, else the chat's own session.

    The links file is re-read whenever its inode, size or mtime changes, so links made with the
    CLI apply to the next message without a restart; an unchanged file costs one stat().
    """

    def __init__(self, store: LinkStore, groups: Mapping[str, Sequence[ChatKey]]) -> None:
        self.store = store
        self.groups = {name: list(keys) for name, keys in groups.items()}
        self._group_of = {key: name for name, keys in self.groups.items() for key in keys}
        self._stamp: tuple[int, int, int] | None = None
        self._by_key: dict[ChatKey, Link] = {}
        self._by_id: dict[str, Link] = {}

    def session_name(self, key: ChatKey) -> str:
        group = self._group_of.get(key)
        if group is not None:
            return f"{GROUP_PREFIX}{group}"
        link = self.link_of(key)
        return link.session_name if link is not None else str(key)

    def seed_from(self, name: str) -> ChatKey | None:
        members = self.members(name)
        return members[0] if members else None

    def members(self, name: str) -> list[ChatKey]:
        if name.startswith(GROUP_PREFIX):
            return list(self.groups.get(name.removeprefix(GROUP_PREFIX), []))
        if name.startswith(LINK_PREFIX):
            self._refresh()
            link = self._by_id.get(name.removeprefix(LINK_PREFIX))
            return list(link.members) if link is not None else []
        return []

    def link_of(self, key: ChatKey) -> Link | None:
        self._refresh()
        return self._by_key.get(key)

    def group_of(self, key: ChatKey) -> str | None:
        return self._group_of.get(key)

    def links(self) -> list[Link]:
        self._refresh()
        return list(self._by_id.values())

    def _refresh(self) -> None:
        try:
            stat = os.stat(self.store.path)
            stamp: tuple[int, int, int] | None = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            links = self.store.load()
        except LinksFileError as exc:
            # Keep routing as before rather than splitting shared conversations apart.
            log.error("%s Keeping the links loaded earlier.", exc)
            return
        self._by_id = {link.id: link for link in links}
        self._by_key = {key: link for link in links for key in link.members}
