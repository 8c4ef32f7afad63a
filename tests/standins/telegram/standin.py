"""TelegramStandin: the state, the lifecycle, waiting on changes and inspecting what the bot did.

Each family of methods is a mixin in its own module; they share the one state set up in __init__."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import EllipsisType
from typing import Any, TypeVar

from aiohttp import web

from tests.standins.served import Served
from tests.standins.telegram.bot_profile import BotProfile
from tests.standins.telegram.callbacks import Callbacks
from tests.standins.telegram.chats import Chats
from tests.standins.telegram.delivery import Delivery
from tests.standins.telegram.drafts import Draft, Drafts
from tests.standins.telegram.edits import Edits
from tests.standins.telegram.faults import Faults
from tests.standins.telegram.files import Files
from tests.standins.telegram.http import HttpFront
from tests.standins.telegram.limits import MAX_UPLOAD
from tests.standins.telegram.messages import Messages
from tests.standins.telegram.params import _Params
from tests.standins.telegram.records import (
    BotMessage,
    Call,
    UserMessage,
    _Chat,
    _Fault,
    _StoredFile,
)
from tests.standins.telegram.updates import UserUpdates

T = TypeVar("T")


class TelegramStandin(
    UserUpdates, Callbacks, Chats, Messages, Drafts, Edits, Files, Delivery, BotProfile, Faults, HttpFront, Served
):
    """The Bot API over HTTP on 127.0.0.1, plus helpers to play users and inspect what the bot did."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "claude_test_bot",
        *,
        bot_first_name: str = "Claude Test Bot",
        strict_ampersand: bool = True,
        private_topics: bool = False,
    ) -> None:
        self.token = token
        # Bot API 9.3 "Threaded Mode": topics in private chats (getMe has_topics_enabled).
        self.private_topics = private_topics
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_ampersand = strict_ampersand
        self.base_url = ""
        self.calls: list[Call] = []
        self.internal_errors: list[str] = []  # stand-in bugs; tests may assert this stays empty

        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._bot_messages: dict[tuple[int, int], BotMessage] = {}
        self._user_messages: dict[tuple[int, int], UserMessage] = {}
        self._files: dict[str, _StoredFile] = {}
        self._album_seq = 0
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = 0
        self._callback_queries: dict[str, tuple[int, int]] = {}  # id -> (chat_id, message_id)
        self._callback_answers: dict[str, dict[str, Any]] = {}
        self._callback_seq = 0
        self._commands: dict[str, list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}  # private chat (None: every chat) -> MenuButton
        self.web_app_opens: list[tuple[int, int, str]] = []  # (chat, message or 0 for the menu, URL) a user opened

        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1000
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._polls_started = 0
        self._webhook_url = ""
        self._webhook_secret = ""
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_in_flight: set[int] = set()
        # Where the reverse proxy in front of the bot forwards the webhook URL to ("http://127.0.0.1:PORT"):
        # while a webhook is set and this is known, updates are POSTed there, as Telegram would.
        self.webhook_proxy: str | None = None
        self.webhook_posts: list[tuple[int, int | None]] = []  # (update_id, HTTP status or None) of every delivery

        self._faults: list[_Fault] = []
        self._download_failures: list[int] = []  # statuses the next file downloads get
        self._flood_every = 0
        self._flood_retry_after = 1
        self._flood_counter = 0
        self._flood_windows: dict[Any, float] = {}  # chat key -> monotonic end of retry window
        self._down: str | None = None

        self.drafts: list[Draft] = []  # every accepted sendMessageDraft, in order
        self._drafts_refused = False
        self._changed = asyncio.Event()
        self._stopping = False
        self._methods: dict[str, tuple[str, Callable[[_Params], Any] | None]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("getUpdates", None),  # handled asynchronously (long polling)
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("setChatMenuButton", self._set_chat_menu_button),
            ("getChatMenuButton", self._get_chat_menu_button),
            ("sendMessage", self._send_message),
            ("editMessageText", self._edit_message_text),
            ("editMessageCaption", self._edit_message_caption),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
            ("deleteMessages", self._delete_messages),
            ("sendChatAction", self._send_chat_action),
            ("sendMessageDraft", self._send_message_draft),
            ("answerCallbackQuery", self._answer_callback_query),
            ("sendDocument", self._send_document),
            ("sendPhoto", self._send_photo),
            ("getFile", self._get_file),
            ("getChat", self._get_chat),
            ("setMessageReaction", self._set_message_reaction),
            ("createForumTopic", self._create_forum_topic),
            ("leaveChat", self._leave_chat),
            ("close", lambda p: True),
            ("logOut", lambda p: True),
        ):
            self._methods[name.lower()] = (name, handler)

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # A short shutdown_timeout: hung "timeout"-mode requests must not stall stop().
        self.base_url = await self._serve(app, "127.0.0.1", 0, shutdown_timeout=0.5)

    async def refuse_connections(self, refuse: bool = True) -> None:
        """The server is not there at all (connection refused), as when the network is not up yet;
        refuse=False listens again on the same address."""
        assert self._runner is not None
        if refuse and self._site is not None:
            await self._site.stop()
            self._site = None
        elif not refuse and self._site is None:
            host, port = self.base_url.removeprefix("http://").rsplit(":", 1)
            self._site = web.TCPSite(self._runner, host, int(port), reuse_address=True)
            await self._site.start()
        self._notify()

    async def stop(self) -> None:
        self._stopping = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        await super().stop()

    def _notify(self) -> None:
        # Swap-and-set rather than asyncio.Condition so synchronous helpers (user_message, ...)
        # can signal without awaiting.
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, timeout: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=max(timeout, 0))

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 30.0) -> T:
        """The first truthy value of predicate(), re-evaluated whenever the stand-in's state changes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout:g}s\n{self.describe()}")
            await self._wait_change(remaining)

    async def wait_for_text(
        self,
        chat_id: int,
        contains: str,
        *,
        thread_id: int | EllipsisType | None = ...,
        timeout: float = 30.0,
    ) -> BotMessage:
        """A visible bot message in the chat (and topic) whose current text or caption contains `contains`."""

        def find() -> BotMessage | None:
            for message in self.bot_messages(chat_id, thread_id):
                if contains in message.visible_text:
                    return message
            return None

        try:
            return await self.wait_for(find, timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"no bot message containing {contains!r} in chat {chat_id}: {exc}") from None

    def describe(self, last: int = 15) -> str:
        """A summary for failure messages: recent calls (long polls omitted) and bot messages."""
        calls = [c for c in self.calls if c.method != "getUpdates"][-last:]
        lines = ["last calls:"] + ([f"  {c}" for c in calls] or ["  (none)"])
        lines.append("bot messages:")
        for message in list(self._bot_messages.values())[-last:]:
            state = " [deleted]" if message.deleted else ""
            lines.append(
                f"  chat {message.chat_id} thread {message.thread_id} #{message.message_id}{state}: "
                f"{message.visible_text[:80]!r}"
            )
        if self.internal_errors:
            lines.append(f"stand-in internal errors: {self.internal_errors}")
        return "\n".join(lines)

    def bot_messages(
        self,
        chat_id: int,
        thread_id: int | EllipsisType | None = ...,
        *,
        include_deleted: bool = False,
    ) -> list[BotMessage]:
        """Messages the bot sent to the chat in send order, current state; thread_id=None is General."""
        chat = self._chats.get(chat_id)
        if thread_id == 1 and chat is not None and chat.is_forum:
            thread_id = None
        return [
            m
            for (c, _), m in sorted(self._bot_messages.items(), key=lambda kv: kv[0][1])
            if c == chat_id
            and (thread_id is ... or m.thread_id == thread_id)
            and (include_deleted or not m.deleted)
        ]

    def user_messages(self, chat_id: int) -> list[UserMessage]:
        return [m for (c, _), m in sorted(self._user_messages.items()) if c == chat_id]

    def errors(self, method: str | None = None) -> list[Call]:
        """Calls answered with an API error (optionally of one method, case-insensitive).

        Requests that got no answer at all (outage modes "timeout"/"close", long polls the
        client abandoned) are in `calls` with error_code None, not here.
        """
        wanted = method.lower() if method else None
        return [
            c for c in self.calls
            if c.error_code is not None and (wanted is None or c.method.lower() == wanted)
        ]

    def calls_to(self, method: str) -> list[Call]:
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def flood_violations(self, chat_id: int | None = None) -> list[Call]:
        """Calls that came back before a retry_after window imposed by this stand-in had passed."""
        return [c for c in self.calls if c.flood_violation and (chat_id is None or c.chat_id == chat_id)]

    @property
    def polls_started(self) -> int:
        """getUpdates requests received so far, counted when they arrive (a long poll is recorded in
        `calls` only when it returns), so a test can wait for a bot that is polling right now."""
        return self._polls_started

    @property
    def pending_updates(self) -> int:
        """Updates pushed but not yet confirmed by the bot (offset)."""
        return len(self._updates)

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        return list(self._commands.get(self._commands_key(scope, language_code), []))
