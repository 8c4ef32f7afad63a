"""Editing and deleting: editMessageText/Caption/ReplyMarkup (with "not modified"), deleteMessage(s)."""

from __future__ import annotations

import time
from typing import Any

from tests.standins.telegram.errors import ApiError, bad_request
from tests.standins.telegram.params import _Params
from tests.standins.telegram.records import BotMessage, _Chat


class Edits:
    """Part of TelegramStandin (see standin.py for its state)."""

    def _editable(self, p: _Params) -> BotMessage:
        if p.has("inline_message_id"):
            raise bad_request("inline messages are not supported by the stand-in")
        if not p.has("message_id"):
            raise bad_request("message identifier is not specified")
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        assert message_id is not None
        message = self._bot_messages.get((chat.id, message_id))
        if message is None or message.deleted:
            user_message = self._user_messages.get((chat.id, message_id))
            if user_message is not None and not user_message.deleted:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return message

    @staticmethod
    def _not_modified() -> ApiError:
        return bad_request(
            "message is not modified: specified new message content and reply markup are exactly the same "
            "as a current content and reply markup of the message"
        )

    def _apply_edit(self, message: BotMessage) -> dict[str, Any]:
        message.edits += 1
        message.edit_date = int(time.time())
        message.history.append(message.visible_text)
        return self._message_json(message)

    def _edit_message_text(self, p: _Params) -> dict[str, Any]:
        return self._edit_words(p, "text", "entities")

    def _edit_message_caption(self, p: _Params) -> dict[str, Any]:
        return self._edit_words(p, "caption", "caption_entities")

    def _edit_words(self, p: _Params, field: str, entities_field: str) -> dict[str, Any]:
        """editMessageText (a text message's words) or editMessageCaption (a media message's)."""
        message = self._editable(p)
        if (message.text is None) == (field == "text"):
            raise bad_request(f"there is no {field} in the message to edit")
        words, entities = self._text(p) if field == "text" else self._caption(p)
        markup = self._reply_markup(p, self._chats[message.chat_id], inline_only=True)  # omitted = removed
        if field == "text":
            p.get_json("link_preview_options")
        if (words, entities, markup) == (getattr(message, field), getattr(message, entities_field), message.reply_markup):
            raise self._not_modified()
        setattr(message, field, words)
        setattr(message, entities_field, entities)
        message.reply_markup = markup
        message.raw_text, message.parse_mode = p.get_str(field), p.get_str("parse_mode")
        return self._apply_edit(message)

    def _edit_message_reply_markup(self, p: _Params) -> dict[str, Any]:
        message = self._editable(p)
        markup = self._reply_markup(p, self._chats[message.chat_id], inline_only=True)
        if markup == message.reply_markup:
            raise self._not_modified()
        message.reply_markup = markup
        message.edits += 1
        message.edit_date = int(time.time())
        return self._message_json(message)

    def _delete_one(self, chat: _Chat, message_id: int) -> bool:
        bot_message = self._bot_messages.get((chat.id, message_id))
        if bot_message is not None and not bot_message.deleted:
            bot_message.deleted = True
            return True
        user_message = self._user_messages.get((chat.id, message_id))
        if user_message is not None and not user_message.deleted:
            user_message.deleted = True
            return True
        return False

    def _delete_message(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        if not self._delete_one(chat, message_id):
            raise bad_request("message to delete not found")
        return True

    def _delete_messages(self, p: _Params) -> bool:
        chat = self._target_chat(p)
        ids = p.get_json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100 or not all(isinstance(i, int) for i in ids):
            raise bad_request("can't parse message identifiers JSON object")
        for message_id in ids:
            self._delete_one(chat, message_id)  # Telegram skips missing ones silently
        return True
