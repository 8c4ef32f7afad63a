"""sendMessage and what every send shares: text and caption rules, replies, keyboards, the message JSON."""

from __future__ import annotations

import time
from typing import Any

from tests.standins.telegram.entities import Entity, checked_link, https_link_problem
from tests.standins.telegram.errors import bad_request
from tests.standins.telegram.formatted import parse_formatted_text
from tests.standins.telegram.limits import (
    _BUTTON_ACTIONS,
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_TEXT,
    _check_entity_count,
    _image_size,
)
from tests.standins.telegram.params import _Params
from tests.standins.telegram.records import BotMessage, _Chat


class Messages:
    """Part of TelegramStandin (see standin.py for its state)."""

    def _reply_target(self, chat: _Chat, p: _Params) -> tuple[int | None, int | None]:
        """(replied message id, its thread) from reply_parameters or legacy reply_to_message_id."""
        reply_parameters = p.get_json("reply_parameters")
        allow_without = p.get_bool("allow_sending_without_reply")
        message_id: int | None = None
        if reply_parameters is not None:
            if not isinstance(reply_parameters, dict) or not isinstance(reply_parameters.get("message_id"), int):
                raise bad_request("can't parse reply parameters JSON object")
            if reply_parameters.get("chat_id") not in (None, chat.id):
                raise bad_request("replies to messages in other chats are not supported by the stand-in")
            message_id = reply_parameters["message_id"]
            allow_without = bool(reply_parameters.get("allow_sending_without_reply", allow_without))
        elif p.has("reply_to_message_id"):
            message_id = p.get_int("reply_to_message_id")
        if message_id is None:
            return None, None
        bot_message = self._bot_messages.get((chat.id, message_id))
        user_message = self._user_messages.get((chat.id, message_id))
        if bot_message is not None and not bot_message.deleted:
            return message_id, bot_message.thread_id
        if user_message is not None and not user_message.deleted:
            return message_id, user_message.thread_id
        if allow_without:
            return None, None
        raise bad_request("message to be replied not found")

    def _reply_markup(self, p: _Params, chat: _Chat, *, inline_only: bool = False) -> dict[str, Any] | None:
        markup = p.get_json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"], chat)
        elif inline_only:
            raise bad_request("inline keyboard expected")
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request('field "keyboard" must be an Array of Arrays')
            for button in (b for row in rows for b in row if isinstance(b, dict)):
                # tdlib's get_keyboard_button: a reply keyboard's Mini App button, private chats only
                if button.get("web_app") is not None and chat.type != "private":
                    raise bad_request("web App buttons can be used in private chats only")
                _check_https_button(button, "web_app", "keyboard button Web App", "can't parse keyboard button: ")
        elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _check_inline_keyboard(rows: Any, chat: _Chat) -> None:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        if sum(len(r) for r in rows) > 100:
            raise bad_request("reply markup is too long")
        prefix = "can't parse inline keyboard button: "
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise bad_request(prefix + "InlineKeyboardButton must be an Object")
                if "text" not in button:
                    raise bad_request(prefix + 'Can\'t find field "text"')
                if not isinstance(button["text"], str):
                    raise bad_request(prefix + 'Field "text" must be of type String')
                if not button["text"].strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
                actions = [a for a in _BUTTON_ACTIONS if button.get(a) not in (None, "", False)]
                if not actions:
                    raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
                if len(actions) > 1:
                    # stand-in strictness: Telegram silently uses the first one
                    raise bad_request(
                        prefix + f"exactly one of the optional fields must be used, got {', '.join(actions)}"
                    )
                data = button.get("callback_data")
                if data is not None:
                    if not isinstance(data, str):
                        raise bad_request(prefix + 'Field "callback_data" must be of type String')
                    if len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
                        raise bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and (not isinstance(url, str) or checked_link(url) is None):
                    raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
                # tdlib (ReplyMarkup.cpp) checks these links with https_only before anything reaches Telegram.
                _check_https_button(button, "login_url", "inline keyboard button login", prefix)
                _check_https_button(button, "web_app", "inline keyboard button Web App", prefix)
        # Telegram's own check, once the keyboard parsed: Mini App buttons exist only in private chats
        # (groups, supergroups and channels get BUTTON_TYPE_INVALID).
        if chat.type != "private" and any(b.get("web_app") is not None for row in rows for b in row):
            raise bad_request("BUTTON_TYPE_INVALID")

    def _formatted(self, p: _Params, text_key: str, entities_key: str) -> tuple[str, list[Entity]]:
        return parse_formatted_text(
            p.get_str(text_key) or "",
            p.get_str("parse_mode"),
            p.get_json(entities_key),
            strict_ampersand=self.strict_ampersand,
        )

    def _text(self, p: _Params) -> tuple[str, list[Entity]]:
        if not p.has("text"):
            raise bad_request("message text is empty")
        text, entities = self._formatted(p, "text", "entities")
        if not text or _empty_after_strip(text):
            raise bad_request("message text is empty")
        # tdlib: utf8_length(text) > message_text_length_max, i.e. code points after entity parsing
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        _check_entity_count(entities)
        return text, entities

    def _caption(self, p: _Params) -> tuple[str | None, list[Entity]]:
        if not p.has("caption"):
            return None, []
        caption, entities = self._formatted(p, "caption", "caption_entities")
        if len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        _check_entity_count(entities)
        return caption or None, entities

    def _message_json(self, m: BotMessage, *, nested: bool = True) -> dict[str, Any]:
        chat = self._chats[m.chat_id]
        out: dict[str, Any] = {
            "message_id": m.message_id,
            "from": self._bot_user(),
            "chat": chat.to_json(),
            "date": m.date,
        }
        if m.thread_id is not None:
            out["message_thread_id"] = m.thread_id
            if self._has_topics(chat):
                out["is_topic_message"] = True
        if nested and m.reply_to_message_id is not None:
            replied = self._message_json_by_id(m.chat_id, m.reply_to_message_id)
            if replied is not None:
                out["reply_to_message"] = replied
        if m.edit_date is not None:
            out["edit_date"] = m.edit_date
        if m.text is not None:
            out["text"] = m.text
            if m.entities:
                out["entities"] = [e.to_json() for e in m.entities]
        if m.document is not None:
            out["document"] = self._files[m.file_id or ""].document_json()
        if m.photo is not None:
            stored = self._files[m.file_id or ""]
            width, height = _image_size(m.photo) or (1280, 960)
            out["photo"] = [stored.as_json(file_size=len(m.photo), width=width, height=height)]
        if m.caption is not None:
            out["caption"] = m.caption
            if m.caption_entities:
                out["caption_entities"] = [e.to_json() for e in m.caption_entities]
        if m.reply_markup is not None and "inline_keyboard" in m.reply_markup:
            out["reply_markup"] = m.reply_markup  # only inline keyboards are part of a message
        return out

    def _new_bot_message(self, chat: _Chat, p: _Params, **fields: Any) -> BotMessage:
        """Common part of every send: thread, reply, markup checks; stores and returns the message."""
        thread_id = self._target_thread(chat, p)
        reply_to, reply_thread = self._reply_target(chat, p)
        if thread_id is None and not p.has("message_thread_id") and reply_thread is not None:
            thread_id = reply_thread  # a reply lands in the replied message's topic
        markup = self._reply_markup(p, chat)
        message = BotMessage(
            message_id=chat.take_message_id(),
            chat_id=chat.id,
            thread_id=thread_id,
            reply_markup=markup,
            date=int(time.time()),
            reply_to_message_id=reply_to,
            **fields,
        )
        message.history.append(message.visible_text)
        self._bot_messages[(chat.id, message.message_id)] = message
        return message

    def _send_message(self, p: _Params) -> dict[str, Any]:
        chat = self._target_chat(p)
        text, entities = self._text(p)
        p.get_json("link_preview_options")  # validated for JSON syntax only
        message = self._new_bot_message(
            chat, p, text=text, raw_text=p.get_str("text"), parse_mode=p.get_str("parse_mode"), entities=entities
        )
        return self._message_json(message)


def _check_https_button(button: dict[str, Any], field: str, what: str, prefix: str) -> None:
    """A button's {"url": …} object (login_url, web_app): the Bot API's parsing, then tdlib's link check."""
    if button.get(field) is None:
        return
    value = button[field]
    if not isinstance(value, dict):
        raise bad_request(prefix + f'Field "{field}" must be of type Object')
    if "url" not in value:
        raise bad_request(prefix + 'Can\'t find field "url"')
    url = value["url"]
    if not isinstance(url, str):
        raise bad_request(prefix + 'Field "url" must be of type String')
    problem = https_link_problem(url)
    if problem:
        raise bad_request(f"{what} URL '{url}' is invalid: {problem}")


# tdlib's strip_empty_characters: these count as spaces (so do the tag characters U+E0000-U+E007F)...
_SPACE_LIKE = frozenset("\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                        "\u202e\u202f\u205f\u2800\u3000\ufffc")
# ...and a text of nothing but these, once trimmed, is empty: a zero-width space or a braille blank is no message.
_EMPTY_CHARS = frozenset(" \n\u200b\u200c\u200d\u200e\u200f\u202e\ufeff\u00a0")


def _empty_after_strip(text: str) -> bool:
    spaced = "".join(" " if c in _SPACE_LIKE or 0xE0000 <= ord(c) <= 0xE007F else c for c in text)
    return all(c in _EMPTY_CHARS for c in spaced.strip(" \t\r\n\0\v"))
