"""Chats, topics and membership: the target of a call, getChat, leaveChat, createForumTopic, reactions, chat actions."""

from __future__ import annotations

import time
from typing import Any

from tests.standins.telegram.errors import ApiError, bad_request
from tests.standins.telegram.limits import CHAT_ACTIONS, REACTION_EMOJI
from tests.standins.telegram.params import _Params
from tests.standins.telegram.records import _Chat


class Chats:
    """Part of TelegramStandin (see standin.py for its state)."""

    def is_member(self, chat_id: int) -> bool:
        return self._chat(chat_id).member

    def disallow_reactions(self, chat_id: int) -> None:
        """The chat's admins turn reactions off: setMessageReaction there gets REACTION_INVALID."""
        self._chat(chat_id).reactions_allowed = False

    def block_bot(self, chat_id: int, blocked: bool = True) -> None:
        """The user of a private chat blocks (or unblocks) the bot: sends get 403."""
        self._chat(chat_id).blocked = blocked

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str = "private",
        is_forum: bool = False,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> None:
        """Make a chat known without a message (the bot may then send to it)."""
        self._ensure_chat(chat_id, chat_type, is_forum, title, first_name, username)

    def add_forum_topic(self, chat_id: int, thread_id: int, *, name: str | None = None) -> None:
        """Create a topic in a forum chat, or a private chat when private_topics is on
        (the creation service message gets id thread_id)."""
        chat = self._chat(chat_id)
        if not self._has_topics(chat):
            raise ValueError(f"chat {chat_id} has no topics")
        self._register_thread(chat, thread_id)
        if name is not None:
            chat.topic_names[thread_id] = name

    def delete_forum_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a topic: sending into it fails with "message thread not found"."""
        self._chat(chat_id).threads.discard(thread_id)

    def _ensure_chat(
        self,
        chat_id: int,
        chat_type: str,
        is_forum: bool,
        title: str | None,
        first_name: str | None,
        username: str | None,
    ) -> _Chat:
        if is_forum and chat_type == "private":
            chat_type = "supergroup"  # forums are supergroups
        if chat_type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {chat_type!r}")
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Chat(chat_id, chat_type)
            self._chats[chat_id] = chat
        chat.type = chat_type
        chat.is_forum = chat.is_forum or is_forum
        if title is not None:
            chat.title = title
        if chat_type == "private":
            chat.first_name = first_name or chat.first_name
            chat.username = username or chat.username
        return chat

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}; push a user message or call add_chat() first")
        return chat

    def _register_thread(self, chat: _Chat, thread_id: int) -> None:
        if thread_id in chat.threads:
            return
        chat.threads.add(thread_id)
        # In Telegram a topic's id is the id of its creation message, so later ids are larger.
        chat.next_message_id = max(chat.next_message_id, thread_id + 1)

    def _has_topics(self, chat: _Chat) -> bool:
        return chat.is_forum or (chat.type == "private" and self.private_topics)

    def _target_chat(self, p: _Params) -> _Chat:
        value = p.raw.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        chat: _Chat | None = None
        text = str(value).strip()
        if text.startswith("@"):
            chat = next((c for c in self._chats.values() if c.username and "@" + c.username == text), None)
        else:
            try:
                chat = self._chats.get(int(text))
            except ValueError:
                chat = None
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        if chat.migrated_to is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=chat.migrated_to)
        return chat

    def _target_thread(self, chat: _Chat, p: _Params) -> int | None:
        """The topic a new message goes to (None = General / no thread)."""
        thread_id = p.get_int("message_thread_id")
        if thread_id is None:
            return None
        if chat.is_forum and thread_id == 1:
            return None  # General
        if chat.type == "private" and not self.private_topics:
            return None  # without Threaded Mode a private chat has no threads; the id is ignored
        if thread_id not in chat.threads:
            raise bad_request("message thread not found")
        return thread_id

    def _send_chat_action(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        if (p.get_str("action") or "") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._target_thread(chat, p)
        return True

    def _leave_chat(self, p: _Params) -> bool:
        chat = self._target_chat(p)  # 403 when it is not a member any more
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        chat.member = False
        # Telegram reports the bot's own departure too, with the bot as the actor.
        self._push_bot_membership(chat, self._bot_user(), "member", "left")
        return True

    def _push_bot_membership(self, chat: _Chat, actor: dict[str, Any], old: str, new: str) -> None:
        """A `my_chat_member` update: the bot's own status in `chat` changed from `old` to `new`, by `actor`."""
        bot = self._bot_user()
        self._push_update({"my_chat_member": {
            "chat": chat.to_json(),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": {"user": bot, "status": old},
            "new_chat_member": {"user": bot, "status": new},
        }})

    def _create_forum_topic(self, p: _Params) -> dict[str, Any]:
        chat = self._target_chat(p)
        if not self._has_topics(chat):
            raise bad_request("the chat is not a forum")
        name = p.get_str("name") or ""
        if not 1 <= len(name) <= 128:
            raise bad_request("invalid forum topic name specified")
        thread_id = chat.take_message_id()
        self._register_thread(chat, thread_id)
        chat.topic_names[thread_id] = name
        return {"message_thread_id": thread_id, "name": name, "icon_color": p.get_int("icon_color") or 7322096}

    def _get_chat(self, p: _Params) -> dict[str, Any]:
        chat = self._target_chat(p)
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _set_message_reaction(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        reaction = p.get_json("reaction")
        reactions = reaction if isinstance(reaction, list) else []
        for item in reactions:
            # A bot may set only the standard emoji, and only where the chat allows reactions.
            if not chat.reactions_allowed or not isinstance(item, dict) or item.get("type") != "emoji" or item.get("emoji") not in REACTION_EMOJI:
                raise bad_request("REACTION_INVALID")
        target = self._user_messages.get((chat.id, message_id or 0))
        if target is None:
            raise bad_request("message to react not found")
        target.reactions = reactions
        return True
