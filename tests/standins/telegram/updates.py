"""Playing users: the updates Telegram sends for their messages, media, edits, group adds and upgrades."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.standins.telegram.entities import utf16_len
from tests.standins.telegram.limits import _image_size
from tests.standins.telegram.records import UserMessage, _Chat

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])")
_MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_])")


def _detected_entities(text: str) -> list[dict[str, Any]]:
    """What Telegram marks in a user's plain text: a leading bot_command and @username mentions."""
    found: list[dict[str, Any]] = []
    if m := _COMMAND_RE.match(text):
        found.append({"offset": 0, "length": utf16_len(m.group(0)), "type": "bot_command"})
    for m in _MENTION_RE.finditer(text):  # "/cmd@bot" is part of the command: "@" follows a letter there
        found.append({"offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0)), "type": "mention"})
    return found


class UserUpdates:
    """Part of TelegramStandin (see standin.py for its state)."""

    def add_bot_to_group(
        self, chat_id: int, user_id: int, *, chat_type: str = "group", title: str | None = None, first_name: str = "Tester"
    ) -> None:
        """A user adds the bot to a group, as Telegram reports it: a `my_chat_member` update (left → member)
        and, in the group, the service message `new_chat_members` (plus the legacy single-member fields)."""
        chat = self._ensure_chat(chat_id, chat_type, False, title, None, None)
        chat.member = True
        user = self._user(user_id, first_name)
        bot = self._bot_user()
        self._push_bot_membership(chat, user, "left", "member")
        content: dict[str, Any] = {"new_chat_members": [bot]}
        if chat_type == "group":
            content.update(new_chat_member=bot, new_chat_participant=bot)
        self._push_user_message(chat_id, user_id, content, chat_type=chat_type, chat_title=title, first_name=first_name)

    def upgrade_group(
        self, chat_id: int, new_chat_id: int, user_id: int, *, is_forum: bool = False, service_messages: bool = True
    ) -> None:
        """Turn a group into a supergroup with a new id, as Telegram does when it gets topics, goes
        public or grows: a ``migrate_to_chat_id`` service message in the old chat, a
        ``migrate_from_chat_id`` one in the new chat, and every later call on the old id fails
        with the new id in ``parameters.migrate_to_chat_id``. ``service_messages=False`` plays a
        bot that never got those updates (they expire after 24 hours)."""
        old = self._chat(chat_id)
        if old.type != "group":
            raise ValueError(f"chat {chat_id} is a {old.type}; only a group is upgraded")
        new = self._ensure_chat(new_chat_id, "supergroup", is_forum, old.title, None, None)
        user = self._users.get(user_id) or self._user(user_id)
        now = int(time.time())
        old_id, new_id = old.take_message_id(), new.take_message_id()
        if service_messages:
            self._push_update(
                {"message": {"message_id": old_id, "from": user, "chat": old.to_json(), "date": now,
                             "migrate_to_chat_id": new_chat_id}}
            )
        old.migrated_to = new_chat_id
        if service_messages:
            self._push_update(
                {"message": {"message_id": new_id, "from": user, "chat": new.to_json(), "date": now,
                             "migrate_from_chat_id": chat_id}}
            )

    def user_message(
        self, chat_id: int, user_id: int, text: str, *, entities: list[dict[str, Any]] | None = None, **chat_kwargs: Any
    ) -> dict[str, Any]:
        """Push a text message from a user (with the entities Telegram detects); returns the update."""
        content: dict[str, Any] = {"text": text}
        detected = entities if entities is not None else _detected_entities(text)
        if detected:
            content["entities"] = detected
        return self._push_user_message(chat_id, user_id, content, **chat_kwargs)

    def user_edit(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edits a text message: an ``edited_message`` update with the message's new state."""
        stored = self._user_messages.get((chat_id, message_id))
        if stored is None or stored.deleted or "text" not in stored.json:
            raise ValueError(f"no text message {message_id} of a user in chat {chat_id}")
        message = {k: v for k, v in stored.json.items() if k != "entities"}
        message["text"] = text
        if detected := _detected_entities(text):
            message["entities"] = detected
        message["edit_date"] = max(int(time.time()), message["date"] + 1)
        stored.json = message
        return self._push_update({"edited_message": message})

    def user_document(
        self, chat_id: int, user_id: int, filename: str, content: bytes, *, caption: str | None = None,
        mime_type: str = "application/octet-stream", media_group_id: str | None = None, **chat_kwargs: Any,
    ) -> dict[str, Any]:
        """Push a document from a user; getFile + the file URL serve `content`."""
        stored = self._store_file("documents", content, filename, mime_type)
        return self._push_media(chat_id, user_id, {"document": stored.document_json()}, caption, media_group_id, chat_kwargs)

    def user_photo(
        self, chat_id: int, user_id: int, content: bytes, *, caption: str | None = None,
        media_group_id: str | None = None, **chat_kwargs: Any,
    ) -> dict[str, Any]:
        """Push a photo from a user (two sizes, both serving `content`; the last is the largest)."""
        width, height = _image_size(content) or (1280, 960)
        sizes = []
        for scale in (4, 1):
            stored = self._store_file("photos", content, None, "image/jpeg", ext=".jpg")
            sizes.append(stored.as_json(width=max(1, width // scale), height=max(1, height // scale)))
        return self._push_media(chat_id, user_id, {"photo": sizes}, caption, media_group_id, chat_kwargs)

    def _push_media(
        self, chat_id: int, user_id: int, message: dict[str, Any], caption: str | None, media_group_id: str | None,
        chat_kwargs: dict[str, Any],
    ) -> dict[str, Any]:
        if caption is not None:
            message["caption"] = caption
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return self._push_user_message(chat_id, user_id, message, **chat_kwargs)

    def user_voice(
        self, chat_id: int, user_id: int, content: bytes, *, duration: int = 3, audio_file: str | None = None, **chat_kwargs: Any
    ) -> dict[str, Any]:
        """Push a voice note (or, with ``audio_file``, an audio file of that name) from a user."""
        if audio_file is None:
            stored = self._store_file("voice", content, None, "audio/ogg", ext=".oga")
            media: dict[str, Any] = {"voice": {"duration": duration, "mime_type": "audio/ogg"}}
        else:
            stored = self._store_file("music", content, audio_file, "audio/mpeg")
            media = {"audio": {"duration": duration, "mime_type": "audio/mpeg", "file_name": audio_file}}
        (body,) = media.values()
        body.update(file_id=stored.file_id, file_unique_id=stored.file_unique_id, file_size=len(content))
        return self._push_user_message(chat_id, user_id, media, **chat_kwargs)

    def user_album(
        self, chat_id: int, user_id: int, photos: list[bytes], *, caption: str | None = None, **chat_kwargs: Any
    ) -> list[dict[str, Any]]:
        """An album as Telegram delivers it: one message per photo sharing a media_group_id, the caption on the first."""
        self._album_seq += 1
        group = f"1{self._album_seq:017d}"
        return [
            self.user_photo(chat_id, user_id, photo, caption=caption if i == 0 else None, media_group_id=group, **chat_kwargs)
            for i, photo in enumerate(photos)
        ]

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Push an arbitrary update (update_id is assigned)."""
        return self._push_update(dict(update))

    def _user(self, user_id: int, first_name: str = "Tester", username: str | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
        if username:
            user["username"] = username
        self._users[user_id] = user
        return user

    def _topic_root_json(self, chat: _Chat, thread_id: int, user: dict[str, Any]) -> dict[str, Any]:
        return {
            "message_id": thread_id,
            "from": user,
            "chat": chat.to_json(),
            "date": int(time.time()) - 60,
            "message_thread_id": thread_id,
            "forum_topic_created": {
                "name": chat.topic_names.get(thread_id, f"Topic {thread_id}"),
                "icon_color": 7322096,
            },
            "is_topic_message": True,
        }

    def _push_user_message(
        self,
        chat_id: int,
        user_id: int,
        content: dict[str, Any],
        *,
        chat_type: str = "private",
        thread_id: int | None = None,
        is_forum: bool = False,
        chat_title: str | None = None,
        first_name: str = "Tester",
        username: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        chat = self._ensure_chat(chat_id, chat_type, is_forum, chat_title, first_name, username)
        if not chat.member:
            raise ValueError(f"the bot left chat {chat_id}: Telegram would not deliver this message")
        if chat.migrated_to is not None:
            raise ValueError(f"chat {chat_id} was upgraded to {chat.migrated_to}; users write there now")
        user = self._user(user_id, first_name, username)
        if chat.is_forum and thread_id == 1:
            thread_id = None  # the General topic: Telegram sends no thread id
        if thread_id is not None and chat.type == "private" and not self.private_topics:
            raise ValueError("a private chat has topics only with private_topics=True (Threaded Mode)")
        if thread_id is not None:
            self._register_thread(chat, thread_id)
        message_id = chat.take_message_id()
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": user,
            "chat": chat.to_json(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if self._has_topics(chat):
                message["is_topic_message"] = True
        if reply_to_message_id is not None:
            replied = self._message_json_by_id(chat_id, reply_to_message_id)
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat_id} to reply to")
            message["reply_to_message"] = replied
        elif thread_id is not None and self._has_topics(chat):
            # Telegram marks every topic message as a reply to the topic's creation message.
            message["reply_to_message"] = self._topic_root_json(chat, thread_id, user)
        message.update(content)
        self._user_messages[(chat_id, message_id)] = UserMessage(message_id, chat_id, thread_id, user_id, message)
        return self._push_update({"message": message})

    def _push_update(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self._updates.append(update)
        self._notify()
        return update

    def _message_json_by_id(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        bot_message = self._bot_messages.get((chat_id, message_id))
        if bot_message is not None and not bot_message.deleted:
            return self._message_json(bot_message, nested=False)
        user_message = self._user_messages.get((chat_id, message_id))
        if user_message is not None and not user_message.deleted:
            return {k: v for k, v in user_message.json.items() if k != "reply_to_message"}
        return None
