"""A method's parameters as Telegram reads them (query, JSON body or form data with uploads)."""

from __future__ import annotations

import json
from typing import Any

from tests.standins.telegram.errors import bad_request
from tests.standins.telegram.records import _Upload

# Parameters Telegram reads as JSON (aiogram sends them as JSON strings in form data).
_JSON_PARAMS = frozenset(
    {"reply_markup", "entities", "caption_entities", "link_preview_options", "reply_parameters",
     "allowed_updates", "commands", "scope", "reaction", "media", "message_ids"}
)
_INT_PARAMS = frozenset(
    {"message_id", "message_thread_id", "offset", "limit", "timeout", "reply_to_message_id",
     "cache_time", "from_chat_id", "user_id"}
)
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "link_preview_options": "can't parse link preview options JSON object",
    "reply_parameters": "can't parse reply parameters JSON object",
    "allowed_updates": "can't parse allowed updates JSON object",
    "commands": "can't parse commands JSON object",
    "scope": "can't parse BotCommandScope JSON object",
    "reaction": "can't parse reaction types JSON object",
    "message_ids": "can't parse message identifiers JSON object",
}


class _Params:
    """Typed access to request parameters, wherever they came from (query, form, multipart, JSON)."""

    def __init__(self, raw: dict[str, Any], uploads: dict[str, _Upload]) -> None:
        self.raw = raw
        self.uploads = uploads

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key] not in (None, "")

    def get_str(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None or isinstance(value, _Upload):
            return None
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def get_int(self, key: str) -> int | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {key} specified") from None

    def get_bool(self, key: str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1") if value is not None else False

    def get_json(self, key: str) -> Any:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(_JSON_ERRORS.get(key, f"can't parse {key} JSON object")) from None

    def get_file(self, key: str) -> _Upload | str | None:
        """An uploaded file (direct field or attach://name), or a file_id/URL string."""
        value = self.raw.get(key)
        if isinstance(value, _Upload):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f'can\'t find attached file "{value[len("attach://"):]}"')
            return upload
        return value if isinstance(value, str) and value else None

    def decoded(self) -> dict[str, Any]:
        """A test-friendly copy: ints as int, JSON fields parsed, uploads summarised."""
        out: dict[str, Any] = {}
        for key, value in self.raw.items():
            if isinstance(value, _Upload):
                out[key] = {"filename": value.filename, "size": len(value.content)}
                continue
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in self.uploads:
                upload = self.uploads[value[9:]]
                out[key] = {"filename": upload.filename, "size": len(upload.content)}
                continue
            if key in _JSON_PARAMS and isinstance(value, str):
                try:
                    out[key] = json.loads(value)
                except ValueError:
                    out[key] = value
            elif key in _INT_PARAMS or key == "chat_id":
                try:
                    out[key] = int(value) if not isinstance(value, bool) else value
                except (TypeError, ValueError):
                    out[key] = value
            else:
                out[key] = value
        return out
