"""Buttons: a user presses one (callback_query), the bot answers it (answerCallbackQuery); a web_app button opens its URL."""

from __future__ import annotations

from typing import Any

from tests.standins.telegram.errors import bad_request
from tests.standins.telegram.params import _Params


class Callbacks:
    """Part of TelegramStandin (see standin.py for its state)."""

    def callback_answers(self) -> dict[str, dict[str, Any]]:
        """Callback query id -> params of its (first, successful) answerCallbackQuery."""
        return dict(self._callback_answers)

    def press_button(
        self, chat_id: int, user_id: int, message_id: int, data: str, *, thread_id: int | None = None,
        first_name: str = "Tester", username: str | None = None, force: bool = False,
    ) -> str:
        """Push a callback_query for a button of a bot message; returns the query id.

        Refuses (ValueError) to press a button the user could not see: deleted message or no
        such callback_data in its current keyboard, unless force=True.
        """
        message = self._bot_messages.get((chat_id, message_id))
        if message is None:
            raise ValueError(f"no bot message {message_id} in chat {chat_id}")
        if not force:
            if message.deleted:
                raise ValueError(f"bot message {message_id} in chat {chat_id} was deleted")
            datas = [b.get("callback_data") for b in message.buttons()]
            if data not in datas:
                raise ValueError(f"message {message_id} has no button with callback_data {data!r}; it has {datas}")
            if thread_id is not None and message.thread_id != thread_id and not (
                thread_id == 1 and message.thread_id is None
            ):
                raise ValueError(f"message {message_id} is in thread {message.thread_id}, not {thread_id}")
        user = self._user(user_id, first_name, username)
        self._callback_seq += 1
        query_id = str(4_000_000_000_000_000_000 + self._callback_seq)
        self._callback_queries[query_id] = (chat_id, message_id)
        self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": self._message_json(message),
                    "chat_instance": str(abs(chat_id) * 7 + 3),
                    "data": data,
                }
            }
        )
        return query_id

    def web_app_url(self, chat_id: int, message_id: int, text: str | None = None) -> str:
        """The URL a user opens by pressing a message's `web_app` button (the one labelled `text`, or its only
        one), recorded in `web_app_opens`; a test appends the launch parameters (tests/e2e/webapp_init.py).

        Refuses (ValueError) a button the user could not press: deleted message, no such web_app button.
        """
        message = self._bot_messages.get((chat_id, message_id))
        if message is None or message.deleted:
            raise ValueError(f"no visible bot message {message_id} in chat {chat_id}")
        buttons = [b for b in message.buttons() if b.get("web_app") is not None]
        chosen = [b for b in buttons if text is None or b["text"] == text]
        if len(chosen) != 1:
            labels = [b["text"] for b in buttons]
            raise ValueError(f"message {message_id} has no single web_app button {text!r}; it has {labels}")
        url = chosen[0]["web_app"]["url"]
        self.web_app_opens.append((chat_id, message_id, url))
        self._notify()
        return url

    def _answer_callback_query(self, p: _Params) -> bool:
        query_id = p.get_str("callback_query_id") or ""
        if query_id not in self._callback_queries or query_id in self._callback_answers:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(p.get_str("text") or "") > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._callback_answers[query_id] = p.decoded()
        return True
