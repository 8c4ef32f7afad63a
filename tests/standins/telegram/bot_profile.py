"""The bot itself: getMe and its command menus (setMyCommands, getMyCommands, deleteMyCommands)."""

from __future__ import annotations

import json
import re
from typing import Any

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
