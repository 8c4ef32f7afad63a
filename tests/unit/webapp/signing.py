"""Telegram's init data, signed as the spec says (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
written here from the spec, not from aiogram, so the bot's check is tested against an independent signer."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

TOKEN = "123456:TEST-token-for-init-data"


def init_data(token: str = TOKEN, user_id: int = 42, *, auth_date: float | None = None, sign: bool = True, name: str = "Ann") -> str:
    fields = {
        "query_id": "AAE-test",
        "user": json.dumps({"id": user_id, "first_name": name, "language_code": "en"}, separators=(",", ":")),
        "auth_date": str(int(time.time() if auth_date is None else auth_date)),
    }
    if sign:
        check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
        secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
        fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)
