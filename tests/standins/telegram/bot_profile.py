"""The bot itself: getMe, its command menus (setMyCommands, getMyCommands, deleteMyCommands) and its menu button
(setChatMenuButton, getChatMenuButton)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.standins.telegram.entities import https_link_problem
from tests.standins.telegram.errors import bad_request
from tests.standins.telegram.params import _Params


class BotProfile:
    """Part of TelegramStandin (see standin.py for its state)."""

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    def _get_me(self, p: _Params) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
            "has_topics_enabled": self.private_topics,
            "allows_users_to_create_topics": self.private_topics,
        }

    @staticmethod
    def _commands_key(scope: Any, language_code: str | None) -> str:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + (language_code or "")

    def _set_my_commands(self, p: _Params) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: expected an Object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name.lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("command description must be non-empty")
        self._commands[self._commands_key(p.get_json("scope"), p.get_str("language_code"))] = [
            {"command": c["command"].lstrip("/"), "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, p: _Params) -> list[dict[str, Any]]:
        return self._commands.get(self._commands_key(p.get_json("scope"), p.get_str("language_code")), [])

    def _delete_my_commands(self, p: _Params) -> bool:
        self._commands.pop(self._commands_key(p.get_json("scope"), p.get_str("language_code")), None)
        return True

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """The MenuButton set for a private chat (None: the bot's default for all), None when never set."""
        return self._menu_buttons.get(chat_id)

    def menu_web_app_url(self, chat_id: int) -> str:
        """The URL a user opens with the menu button of their private chat (its own, else the bot's default),
        recorded in `web_app_opens` with message id 0."""
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {}
        if button.get("type") != "web_app":
            raise ValueError(f"chat {chat_id} has no web_app menu button: {button or 'none set'}")
        url = button["web_app"]["url"]
        self.web_app_opens.append((chat_id, 0, url))
        self._notify()
        return url

    def _menu_chat(self, p: _Params) -> int | None:
        if not p.has("chat_id"):
            return None
        user_id = p.get_int("chat_id")
        if user_id is None or user_id <= 0:
            raise bad_request("invalid chat_id specified")  # a menu button belongs to a private chat
        chat = self._chats.get(user_id)
        if chat is None or chat.type != "private":
            raise bad_request("user not found")
        return user_id

    def _set_chat_menu_button(self, p: _Params) -> bool:
        # As the Bot API does: the button is read before the chat.
        raw = p.get_str("menu_button")
        button: Any = {"type": "default"}
        if raw:
            try:
                button = json.loads(raw)
            except ValueError:
                raise bad_request("can't parse menu button JSON object") from None
        _check_menu_button(button)
        self._menu_buttons[self._menu_chat(p)] = button
        return True

    def _get_chat_menu_button(self, p: _Params) -> dict[str, Any]:
        chat_id = self._menu_chat(p)
        return self._menu_buttons.get(chat_id) or {"type": "default" if chat_id is not None else "commands"}


def _check_menu_button(button: Any) -> None:
    """telegram-bot-api's get_bot_menu_button, then tdlib's set_menu_button (BotMenuButton.cpp)."""
    prefix = "can't parse menu button: "
    if not isinstance(button, dict):
        raise bad_request(prefix + "MenuButton must be an Object")
    kind = button.get("type")
    if not isinstance(kind, str):
        raise bad_request(prefix + ('Can\'t find field "type"' if kind is None else 'Field "type" must be of type String'))
    if kind in ("default", "commands"):
        return
    if kind != "web_app":
        raise bad_request(prefix + "MenuButton has unsupported type")
    text, web_app = button.get("text"), button.get("web_app")
    if not isinstance(text, str):
        raise bad_request(prefix + ('Can\'t find field "text"' if text is None else 'Field "text" must be of type String'))
    if not isinstance(web_app, dict):
        raise bad_request(prefix + ('Can\'t find field "web_app"' if web_app is None else 'Field "web_app" must be of type Object'))
    url = web_app.get("url")
    if not isinstance(url, str):
        raise bad_request(prefix + ('Can\'t find field "url"' if url is None else 'Field "url" must be of type String'))
    if not text:
        raise bad_request("menu button text must be non-empty")
    problem = https_link_problem(url)
    if problem:
        raise bad_request(f"menu button Web App URL '{url}' is invalid: {problem}")
