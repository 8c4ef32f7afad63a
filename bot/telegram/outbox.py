"""Everything the bot says goes through here: one ordered, paced, retrying queue per chat.

Telegram limits how fast a bot may write to one chat and answers 429 with a wait when
that is exceeded; it also goes down now and then. Each chat's Outbox runs its operations
one at a time in a worker task, so nothing reaches a chat while it is told to wait, final
texts survive an outage, and no error ever reaches the caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import Any, Concatenate, ParamSpec, TypedDict, TypeVar, Unpack

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, MessageEntity, ReactionTypeEmoji, ReplyParameters

from bot.sessions.keys import ChatKey
from bot.telegram.drafts import LiveDrafts
from bot.telegram.render import MAX_TEXT, Rendered, split_rendered, text_len, valid_text
from bot.util.text import split_text

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_CAPTION = 1024
UPLOAD_TIMEOUT = 120  # seconds; other calls get the session's short timeout (bot/telegram/client.py)
_BACKOFF_FIRST = 1.0
_BACKOFF_CAP = 15.0
_SHOWN_MEMORY = 64  # recent messages per chat whose current content we remember
DELETED_KEPT = 256  # recent deletions per chat, so a message is never deleted twice
_DRAFT_POLL = 0.05  # seconds: how often a draft waiting for a spare token looks whether a call queued behind it
# An edit that fails this way can only be delivered as a new message.
_EDIT_GONE = (
    "message to edit not found",
    "message_id_invalid",
    "message can't be edited",
    "no text in the message to edit",
)

Sleep = Callable[[float], Awaitable[Any]]
P = ParamSpec("P")


class Formatting(TypedDict, total=False):
    """How a text is shown: entities or a parse mode (never both), and buttons."""

    entities: list[MessageEntity] | None
    parse_mode: str | None
    reply_markup: Any


@dataclass(frozen=True)
class _Content:
    text: str
    entities: list[MessageEntity] | None
    parse_mode: str | None
    reply_markup: Any

    @classmethod
    def of(cls, text: str, formatting: Formatting) -> _Content:
        entities, parse_mode, markup = formatting.get("entities"), formatting.get("parse_mode"), formatting.get("reply_markup")
        # A lone surrogate (a stream cut inside an emoji) can't even be encoded: it becomes U+FFFD.
        return cls(valid_text(text), entities or None, parse_mode, markup)

    @property
    def formatted(self) -> bool:
        return bool(self.entities) or self.parse_mode is not None

    def plain(self) -> _Content:
        """The same words without formatting: what to send when Telegram refuses the formatting."""
        text = _html_text(self.text) if (self.parse_mode or "").upper() == "HTML" else self.text
        return _Content(text, None, None, self.reply_markup)

    def fields(self) -> dict[str, Any]:
        # parse_mode=None is explicit so a bot-wide default parse mode can't re-parse our text.
        return {
            "text": self.text,
            "entities": self.entities or None,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
        }


@dataclass(eq=False)
class _Op:
    run: Callable[[_Op], Awaitable[Any]]
    failed: Any = None  # the result when it could not be done
    future: asyncio.Future[Any] | None = None  # set when a caller awaits the result
    message_id: int | None = None  # the message an edit or delete is about
    content: _Content | None = None  # an edit's content; a merged edit replaces it
    superseded: bool = False  # a newer edit or a delete made it pointless
    draft_id: int | None = None  # a draft's: it gives way to any other call (see Outbox.draft)


class _Bucket:
    """Token bucket. A flood wait drives it negative, so the chat stays silent until it ends."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate, self._burst, self._clock = rate, float(burst), clock
        self._tokens, self._stamp = float(burst), clock()

    def wait(self, reserve: int = 0) -> float:
        """Seconds until a token is available with ``reserve`` more left over."""
        self._refill()
        need = 1 + reserve
        return 0.0 if self._tokens >= need - 1e-9 else (need - self._tokens) / self._rate

    def take(self) -> None:
        self._tokens -= 1

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    def hold(self, seconds: float) -> None:
        """Make the next token available only after ``seconds``."""
        self._refill()
        self._tokens = min(self._tokens, 1 - seconds * self._rate)


class Outbox:
    """One chat's queue. Create through :class:`Outboxes`."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        *,
        rate: float,
        burst: int,
        retry_window: float,
        clock: Callable[[], float],
        sleep: Sleep,
        on_migrate: Callable[[int, int], None] = lambda old, new: None,
    ) -> None:
        self.chat_id = chat_id
        self._on_migrate = on_migrate
        self._bot = bot
        self._bucket = _Bucket(rate, burst, clock)
        self._retry_window = retry_window
        self._clock, self._sleep = clock, sleep
        self._queue: deque[_Op] = deque()
        self._current: _Op | None = None
        self._worker: asyncio.Task[None] | None = None
        self._shown: OrderedDict[int, _Content] = OrderedDict()  # what Telegram shows, per message
        self._moved: dict[int, int] = {}  # message re-sent because the original was gone → its successor
        self._deleted: deque[int] = deque(maxlen=DELETED_KEPT)  # asked to delete already: never twice

    # -- public API -----------------------------------------------------------------

    async def send_text(
        self, key: ChatKey, text: str, *, reply_to: int | None = None, **formatting: Unpack[Formatting]
    ) -> int | None:
        """Send a message; returns its id (the last part's, if it had to be split), None if it failed."""
        content = _Content.of(text, formatting)
        return await self._submit(_Op(lambda op: self._send(key, content, reply_to)))

    async def send_rendered(
        self, key: ChatKey, part: Rendered, *, reply_markup: Any = None, reply_to: int | None = None
    ) -> int | None:
        return await self.send_text(key, part.text, entities=part.entities, reply_markup=reply_markup, reply_to=reply_to)

    def edit_text(self, key: ChatKey, message_id: int, text: str, **formatting: Unpack[Formatting]) -> None:
        """Queue an edit; a still-pending edit of the same message just takes the new content."""
        content = _Content.of(text, formatting)
        latest = next((op for op in reversed(self._queue) if op.message_id == message_id), None)
        if latest is not None and latest.future is None and latest.content is not None:
            latest.content = content
            return
        self._supersede(message_id, queued=False)
        self._push(_Op(lambda op: self._edit(key, message_id, op.content), message_id=message_id, content=content))

    async def edit_text_now(self, key: ChatKey, message_id: int, text: str, **formatting: Unpack[Formatting]) -> bool:
        """Edit in queue order and wait; True if Telegram shows this content now (maybe as a new message)."""
        content = _Content.of(text, formatting)
        self._supersede(message_id, queued=True)
        op = _Op(lambda op: self._edit(key, message_id, op.content), failed=False, message_id=message_id, content=content)
        return await self._submit(op)

    def delete(self, key: ChatKey, message_id: int) -> None:
        if message_id in self._deleted:  # Telegram would answer "message to delete not found"
            return
        self._deleted.append(message_id)
        self._supersede(message_id, queued=True)
        self._push(_Op(lambda op: self._delete(message_id), message_id=message_id))

    async def send_document(
        self, key: ChatKey, filename: str, data: bytes, *, caption: str | None = None, reply_to: int | None = None
    ) -> int | None:
        return await self._submit(_Op(lambda op: self._send_document(key, filename, data, caption, reply_to)))

    async def react(self, key: ChatKey, message_id: int, emoji: str) -> bool:
        """Put the bot's reaction on a message; False if it was not shown (reactions are off in that chat)."""
        return await self._submit(_Op(lambda op: self._react(message_id, emoji), failed=False))

    def draft(
        self, key: ChatKey, draft_id: int, text: str, *, on_refused: Callable[[str], None] = lambda reason: None
    ) -> None:
        """Stream ``text`` as the chat's draft ``draft_id`` (private chats; "" shows "Thinking…"), with
        Telegram's stop button on it.

        A draft is worth less than any other call: a pending one just takes the newer text, it is
        sent only while a token is left over for what follows, and it is dropped when another call
        waits behind it; ``on_refused`` is told Telegram's reason if it refuses drafts here.
        """
        content = _Content.of(text, {})
        latest = next((op for op in reversed(self._queue) if op.draft_id == draft_id), None)
        if latest is not None and not latest.superseded:
            latest.content = content
            return
        self._push(_Op(lambda op: self._draft(key, draft_id, op, on_refused), draft_id=draft_id, content=content))

    def drop_drafts(self, draft_id: int) -> None:
        """The draft's turn has ended: no draft of it is sent from now on (so old text never reappears)."""
        for op in [*self._queue, *([self._current] if self._current else [])]:
            if op.draft_id == draft_id:
                op.superseded = True

    def chat_action(self, key: ChatKey, action: str = "typing") -> None:
        """Best effort: dropped when the chat is busy or throttled rather than delayed."""
        if self._queue or self._current is not None or self._bucket.wait() > 0:
            return
        self._push(_Op(lambda op: self._chat_action(key, action)))

    async def flush(self) -> None:
        """Wait until everything queued before this call is done."""
        if self._queue or self._current is not None:
            await self._submit(_Op(_nothing))

    async def close(self) -> None:
        await self.flush()
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        while self._queue:  # queued after the flush: nothing will run them now
            self._resolve(self._queue.popleft(), None)

    # -- queue ----------------------------------------------------------------------

    async def _submit(self, op: _Op) -> Any:
        op.future = asyncio.get_running_loop().create_future()
        self._push(op)
        return await op.future

    def _push(self, op: _Op) -> None:
        self._queue.append(op)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name=f"outbox {self.chat_id}")

    def _supersede(self, message_id: int, *, queued: bool) -> None:
        """Drop fire-and-forget edits of the message: the in-flight one, and with ``queued`` the pending ones."""
        stale = [*self._queue] if queued else []
        if self._current is not None:
            stale.append(self._current)
        for op in stale:
            if op.message_id == message_id and op.content is not None and op.future is None:
                op.superseded = True

    async def _run(self) -> None:
        # Exits when the queue is empty; _push starts a new worker when work arrives.
        while self._queue:
            op = self._current = self._queue.popleft()
            result = op.failed
            try:
                if not op.superseded:
                    result = await op.run(op)
            except TelegramAPIError as err:
                log.error("Telegram refused a request in chat %s: %s", self.chat_id, err)
            except Exception:  # one bad operation must not stop the chat's queue
                log.exception("Outbox operation failed in chat %s", self.chat_id)
            finally:  # also on cancellation (close), so no caller waits forever
                self._current = None
                self._resolve(op, result)

    def _call_waiting(self) -> bool:
        """Something other than a draft (or a flush) is queued: a draft in the way gives way to it."""
        return any(op.draft_id is None and op.run is not _nothing for op in self._queue)

    @staticmethod
    def _resolve(op: _Op, result: Any) -> None:
        if op.future is not None and not op.future.done():
            op.future.set_result(result)

    # -- requests -------------------------------------------------------------------

    async def _request(self, call: Callable[[], Awaitable[T]], *, gives_way: bool = False) -> T | None:
        """One API call, paced, retried through flood waits and outages; None if given up.

        TelegramBadRequest and other refusals propagate: retrying can't fix them. ``gives_way``
        (a draft): not retried once another call is queued behind it.
        """
        failing_since: float | None = None
        delay = _BACKOFF_FIRST
        while True:
            while (wait := self._bucket.wait()) > 0:
                await self._sleep(wait)
            if self._current is not None and self._current.superseded:
                return None
            if gives_way and self._call_waiting():
                return None
            self._bucket.take()
            try:
                return await call()
            except TelegramRetryAfter as err:
                log.warning("Flood control in chat %s: nothing is sent for %ss", self.chat_id, err.retry_after)
                self._bucket.hold(err.retry_after)
            except TelegramEntityTooLarge:
                raise
            except TelegramMigrateToChat as err:
                # The group became a supergroup with a new id (maybe while the bot was down): this
                # chat's queue follows it, and so does its session (Outboxes.on_chat_moved).
                old, self.chat_id = self.chat_id, err.migrate_to_chat_id
                log.info("Chat %s was upgraded to supergroup %s; sending there", old, self.chat_id)
                self._on_migrate(old, self.chat_id)
            except (TelegramNetworkError, TelegramServerError) as err:
                now = self._clock()
                failing_since = now if failing_since is None else failing_since
                if now - failing_since >= self._retry_window:
                    log.error("Giving up on a request in chat %s after %.0fs of errors: %s", self.chat_id, now - failing_since, err)
                    return None
                log.warning("Telegram unreachable for chat %s (%s); retrying in %.0fs", self.chat_id, err, delay)
                await self._sleep(delay)
                delay = min(delay * 2, _BACKOFF_CAP)

    async def _draft(self, key: ChatKey, draft_id: int, op: _Op, on_refused: Callable[[str], None]) -> None:
        # A draft goes only with a token to spare (the answer after it never waits for the pace),
        # and never ahead of a call queued behind it.
        while (wait := self._bucket.wait(reserve=1)) > 0:
            if op.superseded or self._call_waiting():
                return
            await self._sleep(min(wait, _DRAFT_POLL))
        assert op.content is not None
        text = op.content.text
        try:
            await self._request(
                lambda: self._bot.send_message_draft(
                    chat_id=self.chat_id,
                    draft_id=draft_id,
                    message_thread_id=key.thread_id,
                    text=text,
                    parse_mode=None,
                    can_stop=True,
                    keep_on_stop=True,  # the answer so far stays until the "⏹ Stopped." message replaces it
                ),
                gives_way=True,
            )
        except TelegramBadRequest as err:
            log.info("Telegram refused a draft in chat %s: %s", self.chat_id, err.message)
            on_refused(err.message)

    async def _send(self, key: ChatKey, content: _Content, reply_to: int | None) -> int | None:
        sent = None
        for part in _fit(content):
            sent = await self._send_one(key, part, reply_to) or sent
            reply_to = None
        return sent

    async def _send_one(self, key: ChatKey, content: _Content, reply_to: int | None) -> int | None:
        try:
            message = await self._request(
                lambda: self._bot.send_message(
                    chat_id=self.chat_id,
                    message_thread_id=key.thread_id,
                    reply_parameters=_reply(reply_to),
                    **content.fields(),
                )
            )
        except TelegramBadRequest as err:
            if not content.formatted:
                log.error("Telegram refused a message in chat %s: %s", self.chat_id, err.message)
                return None
            log.warning("Telegram refused formatting in chat %s (%s); sending plain text", self.chat_id, err.message)
            return await self._send(key, content.plain(), reply_to)
        if message is None:
            return None
        self._remember(message.message_id, content)
        return message.message_id

    async def _edit(self, key: ChatKey, message_id: int, content: _Content) -> bool:
        message_id = self._successor(message_id)
        if self._shown.get(message_id) == content:
            return True
        first, *rest = _fit(content)
        shown = await self._edit_one(key, message_id, first)
        for part in rest:
            await self._send_one(key, part, None)
        if shown:
            self._remember(self._successor(message_id), content)
        return shown

    async def _edit_one(self, key: ChatKey, message_id: int, content: _Content) -> bool:
        try:
            result = await self._request(
                lambda: self._bot.edit_message_text(chat_id=self.chat_id, message_id=message_id, **content.fields())
            )
        except TelegramBadRequest as err:
            reason = err.message.lower()
            if "message is not modified" in reason:
                return True
            if any(gone in reason for gone in _EDIT_GONE):
                new_id = await self._send(key, content, None)
                if new_id is not None:
                    self._moved[message_id] = new_id
                return new_id is not None
            if not content.formatted:
                log.error("Telegram refused an edit in chat %s: %s", self.chat_id, err.message)
                return False
            log.warning("Telegram refused formatting in chat %s (%s); editing as plain text", self.chat_id, err.message)
            return await self._edit(key, message_id, content.plain())
        return result is not None

    async def _delete(self, message_id: int) -> None:
        message_id = self._successor(message_id)
        self._shown.pop(message_id, None)
        try:
            await self._request(lambda: self._bot.delete_message(chat_id=self.chat_id, message_id=message_id))
        except TelegramBadRequest as err:
            log.info("Could not delete message %s in chat %s: %s", message_id, self.chat_id, err.message)

    async def _send_document(
        self, key: ChatKey, filename: str, data: bytes, caption: str | None, reply_to: int | None
    ) -> int | None:
        if caption and text_len(caption) > MAX_CAPTION:
            caption = split_text(caption, MAX_CAPTION - 1)[0] + "…"
        try:
            message = await self._request(
                lambda: self._bot.send_document(
                    chat_id=self.chat_id,
                    document=BufferedInputFile(data, filename=filename),
                    caption=caption,
                    parse_mode=None,
                    message_thread_id=key.thread_id,
                    reply_parameters=_reply(reply_to),
                    request_timeout=UPLOAD_TIMEOUT,
                )
            )
        except TelegramBadRequest as err:
            log.error("Telegram refused document %s in chat %s: %s", filename, self.chat_id, err.message)
            return None
        return message.message_id if message is not None else None

    async def _react(self, message_id: int, emoji: str) -> bool:
        try:
            done = await self._request(
                lambda: self._bot.set_message_reaction(
                    chat_id=self.chat_id, message_id=message_id, reaction=[ReactionTypeEmoji(emoji=emoji)]
                )
            )
        except TelegramBadRequest as err:
            log.info("Could not react to message %s in chat %s: %s", message_id, self.chat_id, err.message)
            return False
        return bool(done)

    async def _chat_action(self, key: ChatKey, action: str) -> None:
        try:
            await self._bot.send_chat_action(chat_id=self.chat_id, action=action, message_thread_id=key.thread_id)
        except TelegramRetryAfter as err:
            self._bucket.hold(err.retry_after)
        except TelegramAPIError as err:
            log.debug("Chat action failed in chat %s: %s", self.chat_id, err)

    def _remember(self, message_id: int, content: _Content) -> None:
        self._shown[message_id] = content
        self._shown.move_to_end(message_id)
        while len(self._shown) > _SHOWN_MEMORY:
            self._shown.popitem(last=False)

    def _successor(self, message_id: int) -> int:
        while message_id in self._moved:
            message_id = self._moved[message_id]
        return message_id


def _per_chat(method: Callable[Concatenate[Outbox, ChatKey, P], T]) -> Callable[Concatenate[Outboxes, ChatKey, P], T]:
    def forward(self: Outboxes, key: ChatKey, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return method(self.for_chat(key.chat_id), key, *args, **kwargs)

    forward.__name__, forward.__doc__ = method.__name__, method.__doc__
    return forward


class Outboxes:
    """One Outbox per chat, created on first use. Private chats and groups have different limits."""

    def __init__(
        self,
        bot: Bot,
        *,
        private_rate: float = 1.0,
        private_burst: int = 3,
        group_rate: float = 20 / 60,
        group_burst: int = 5,
        retry_window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """``retry_window``: how long network errors and 5xx are retried; ``clock``/``sleep`` are for tests."""
        self._bot = bot
        self._private = (private_rate, private_burst)
        self._group = (group_rate, group_burst)
        self._retry_window = retry_window
        self._clock, self._sleep = clock, sleep
        self._boxes: dict[int, Outbox] = {}
        self._moved: dict[int, int] = {}  # upgraded group id → its supergroup's id
        # Told when a send finds its group upgraded; the composition root moves the session.
        self.on_chat_moved: Callable[[int, int], Awaitable[object]] | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self.drafts = LiveDrafts()  # the drafts streaming now, for Telegram's stop button

    def move_chat(self, old_id: int, new_id: int) -> None:
        """Everything for ``old_id`` (queued or later) goes to ``new_id``, in one paced queue."""
        if self._moved.get(old_id) == new_id:
            return
        self._moved[old_id] = new_id
        box = self._boxes.pop(old_id, None)
        if box is not None:
            box.chat_id = new_id
            self._boxes.setdefault(new_id, box)

    def _migrated(self, old_id: int, new_id: int) -> None:
        self.move_chat(old_id, new_id)
        if self.on_chat_moved is not None:
            task = asyncio.create_task(self.on_chat_moved(old_id, new_id), name=f"chat-moved {old_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def progress_every(self, chat_id: int) -> float:
        """Seconds between a progress message's edits. In a group (20 messages a minute) they take at
        most half of what the chat may send, so the answer never waits behind them."""
        return 1.0 if chat_id > 0 else 2 / self._group[0]

    def for_chat(self, chat_id: int) -> Outbox:
        while chat_id in self._moved:
            chat_id = self._moved[chat_id]
        box = self._boxes.get(chat_id)
        if box is None:
            rate, burst = self._private if chat_id > 0 else self._group
            box = self._boxes[chat_id] = Outbox(
                self._bot,
                chat_id,
                rate=rate,
                burst=burst,
                retry_window=self._retry_window,
                clock=self._clock,
                sleep=self._sleep,
                on_migrate=self._migrated,
            )
        return box

    # The same calls as Outbox's, each handed to the chat's own Outbox.
    send_text = _per_chat(Outbox.send_text)
    send_rendered = _per_chat(Outbox.send_rendered)
    edit_text = _per_chat(Outbox.edit_text)
    edit_text_now = _per_chat(Outbox.edit_text_now)
    delete = _per_chat(Outbox.delete)
    send_document = _per_chat(Outbox.send_document)
    chat_action = _per_chat(Outbox.chat_action)
    react = _per_chat(Outbox.react)
    draft = _per_chat(Outbox.draft)

    def drop_drafts(self, key: ChatKey, draft_id: int) -> None:
        self.for_chat(key.chat_id).drop_drafts(draft_id)

    async def close(self) -> None:
        """Deliver everything queued (used at shutdown), then stop the workers."""
        await asyncio.gather(*(box.close() for box in self._boxes.values()))


async def _nothing(op: _Op) -> None:
    return None


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def _fit(content: _Content) -> list[_Content]:
    """Split text too long for one message; HTML can't be measured here (Telegram's refusal is handled)."""
    if content.parse_mode is not None or text_len(content.text) <= MAX_TEXT:
        return [content]
    parts = split_rendered(content.text, content.entities or [])
    if not parts:
        return [content]
    last = len(parts) - 1
    return [
        replace(content, text=part.text, entities=part.entities or None, reply_markup=content.reply_markup if i == last else None)
        for i, part in enumerate(parts)
    ]


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _html_text(markup: str) -> str:
    """The visible text of Telegram HTML, for showing it unformatted."""
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)
