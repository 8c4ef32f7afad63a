"""Pastes and albums: Telegram delivers them as several messages; Claude gets them as one turn.

A client splits a long paste into messages of up to 4096 characters, sent back to back, and an
album arrives as one message per photo or file sharing a ``media_group_id``. Such a message opens
a group that takes every following message of the same person in the same chat until none has
come for ``window`` seconds (and every album file has been downloaded); the group is then one
turn. Any other message is submitted at once: a short message is never delayed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.sessions.keys import ChatKey
from bot.sessions.session import Turn
from bot.turns.batch import merge

log = logging.getLogger(__name__)

PASTE_PART = 4000  # code points; Telegram's clients cut a paste into parts of up to 4096
WINDOW = 1.0  # seconds of silence that end a paste or an album

Submit = Callable[[Turn], Awaitable[None]]
Joined = Callable[[Turn], Awaitable[None]]


@dataclass(eq=False)
class Slot:
    """One message's place in a group; its turn is filled in once it is ready (a file downloaded)."""

    message_id: int | None = None
    turn: Turn | None = None
    ready: bool = False
    apart: bool = False  # a message of its own (a file, not part of the paste or album) that joined the group
    edited: str | None = None  # the message was edited before its turn was ready: the turn takes this text


@dataclass(eq=False)
class _Group:
    slots: list[Slot] = field(default_factory=list)
    last: float = 0.0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class Gatherer:
    def __init__(
        self, submit: Submit, joined: Joined, *, window: float = WINDOW, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """``joined``: tells a message of its own that went to Claude with the group (its answer is the group's)."""
        self._submit = submit
        self._joined = joined
        self._window = window
        self._clock = clock
        self._groups: dict[tuple[ChatKey, int | None], _Group] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def hold(
        self, key: ChatKey, user_id: int | None, *, starts_group: bool, apart: bool = False, message_id: int | None = None
    ) -> Slot | None:
        """A place for this message in its group, or None: submit it now. Call before any await,
        so messages keep the order Telegram delivered them in. ``apart``: a message of its own
        (a file outside any album) that joins an open group is told so once the group is sent."""
        group = self._groups.get((key, user_id))
        if group is None:
            if not starts_group:
                return None
            group = self._groups[(key, user_id)] = _Group()
            task = asyncio.create_task(self._close_when_quiet(key, user_id, group), name=f"gather {key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        slot = Slot(message_id=message_id, apart=apart and bool(group.slots))
        group.slots.append(slot)
        group.last = self._clock()
        group.changed.set()
        return slot

    def fill(self, slot: Slot, turn: Turn | None) -> None:
        """The message is ready; None when it came to nothing (it was answered on its own, e.g. a refused file)."""
        if turn is not None and slot.edited is not None:
            turn.prompt = slot.edited
        slot.turn, slot.ready = turn, True
        for accepted in turn.inbox if turn is not None else []:
            accepted.claimed = True  # held here, not settled when its handler returns: it is not answered yet
        for group in self._groups.values():
            if slot in group.slots:
                group.changed.set()

    def edit(self, key: ChatKey, user_id: int | None, message_id: int, prompt: str) -> Slot | None:
        """A message still held in an open group was edited: the group goes to Claude with the new text
        (and waits its quiet window again: the person is still at it)."""
        group = self._groups.get((key, user_id))
        if group is None:
            return None
        slot = next((s for s in group.slots if s.message_id == message_id), None)
        if slot is None:
            return None
        if slot.turn is not None:
            slot.turn.prompt = prompt
        else:
            slot.edited = prompt  # its handler is still reading it: fill() applies the edit
        group.last = self._clock()
        group.changed.set()
        return slot

    async def flush(self) -> None:
        """Submit every open group now (shutdown)."""
        for (key, user_id), group in list(self._groups.items()):
            await self._close(key, user_id, group)

    async def _close_when_quiet(self, key: ChatKey, user_id: int | None, group: _Group) -> None:
        while self._groups.get((key, user_id)) is group:
            group.changed.clear()
            quiet_for = self._clock() - group.last
            waiting = not all(slot.ready for slot in group.slots)
            if quiet_for >= self._window and not waiting:
                await self._close(key, user_id, group)
                return
            timeout = None if waiting else self._window - quiet_for
            try:
                await asyncio.wait_for(group.changed.wait(), timeout)
            except TimeoutError:
                pass

    async def _close(self, key: ChatKey, user_id: int | None, group: _Group) -> None:
        if self._groups.get((key, user_id)) is not group:
            return
        del self._groups[(key, user_id)]
        turns = [slot.turn for slot in group.slots if slot.turn is not None]
        if turns:
            try:
                await self._submit(merge(turns, "\n"))
                for slot in group.slots[1:]:
                    if slot.apart and slot.turn is not None:
                        await self._joined(slot.turn)
            except Exception:
                log.exception("could not submit the gathered messages of %s", key)
