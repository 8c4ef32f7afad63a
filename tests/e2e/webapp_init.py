"""Telegram Mini App init data, signed as Telegram signs it, and the URL a Telegram client opens.

Written from the Bot API's "Validating data received via the Mini App" (core.telegram.org/bots/webapps),
not with aiogram's helper, so that the bot's check (aiogram's safe_parse_webapp_init_data) is tested
against an independent signer:

    secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token)
    hash = hex(HMAC_SHA256(key=secret_key, msg=data_check_string))

where data_check_string is every received field but `hash`, as "key=value" lines sorted by key and
joined by "\\n"; complex values (`user`) are JSON objects. The init data itself is a query string.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl, quote

# Telegram Android's day theme, as a client passes it in tgWebAppThemeParams (every documented key).
THEME = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#a8a8a8",
    "link_color": "#2678b6",
    "button_color": "#50a8eb",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f0f0f0",
    "header_bg_color": "#527da3",
    "bottom_bar_bg_color": "#f0f0f0",
    "accent_text_color": "#1c93e3",
    "section_bg_color": "#ffffff",
    "section_header_text_color": "#3a95d5",
    "section_separator_color": "#d9d9d9",
    "subtitle_text_color": "#82868a",
    "destructive_text_color": "#cc2929",
}
VERSION = "9.1"
PLATFORM = "android"


def _encode(fields: list[tuple[str, str]]) -> str:
    # As Telegram's clients do: percent-encoding with %20 for spaces (URLSearchParams would write "+").
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in fields)


def _signature(token: str, fields: list[tuple[str, str]]) -> str:
    data_check_string = "\n".join(f"{k}={v}" for k, v in sorted(fields) if k != "hash")
    secret_key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret_key, data_check_string.encode(), hashlib.sha256).hexdigest()


def _fields(
    user_id: int, *, first_name: str, last_name: str | None, username: str | None, language_code: str,
    auth_date: int | None, start_param: str | None, chat_type: str | None, chat_instance: str | None,
    query_id: str | None,
) -> list[tuple[str, str]]:
    user: dict[str, object] = {"id": user_id, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    user.update(language_code=language_code, allows_write_to_pm=True)
    fields = [("query_id", query_id)] if query_id is not None else []
    fields.append(("user", json.dumps(user, ensure_ascii=False, separators=(",", ":"))))
    for key, value in (("chat_instance", chat_instance), ("chat_type", chat_type), ("start_param", start_param)):
        if value is not None:
            fields.append((key, value))
    fields.append(("auth_date", str(int(time.time()) if auth_date is None else auth_date)))
    return fields


def signed_init_data(
    token: str, user_id: int, *, first_name: str = "Tester", last_name: str | None = None,
    username: str | None = None, language_code: str = "en", auth_date: int | None = None,
    start_param: str | None = None, chat_type: str | None = None, chat_instance: str | None = None,
    query_id: str | None = None,
) -> str:
    """Init data for `user_id` signed with the bot's `token` (Telegram.WebApp.initData); auth_date is now
    unless given. query_id comes with an inline button or the menu button; chat_type and chat_instance
    with a direct link or the attachment menu; start_param with a link's startapp."""
    fields = _fields(
        user_id, first_name=first_name, last_name=last_name, username=username, language_code=language_code,
        auth_date=auth_date, start_param=start_param, chat_type=chat_type, chat_instance=chat_instance,
        query_id=query_id,
    )
    return _encode([*fields, ("hash", _signature(token, fields))])


def forged_init_data(token: str, user_id: int, **kw: Any) -> str:
    """Signed with another bot's token: what anyone without this bot's token could make."""
    return signed_init_data(_other_token(token), user_id, **kw)


def unsigned_init_data(token: str, user_id: int, **kw: Any) -> str:
    """Well-formed init data without its hash."""
    signed = signed_init_data(token, user_id, **kw)
    return "&".join(part for part in signed.split("&") if not part.startswith("hash="))


def expired_init_data(token: str, user_id: int, *, age: int = 2 * 24 * 3600, **kw: Any) -> str:
    """Correctly signed, but signed `age` seconds ago (two days by default): replayed old init data."""
    return signed_init_data(token, user_id, auth_date=int(time.time()) - age, **kw)


def tampered_init_data(token: str, user_id: int, as_user: int, **kw: Any) -> str:
    """Signed for `user_id`, then its user's id changed to `as_user` with the hash kept."""
    fields = parse_qsl(signed_init_data(token, user_id, **kw), keep_blank_values=True)
    changed = []
    for key, value in fields:
        if key == "user":
            value = json.dumps({**json.loads(value), "id": as_user}, ensure_ascii=False, separators=(",", ":"))
        changed.append((key, value))
    return _encode(changed)


def _other_token(token: str) -> str:
    bot_id, secret = token.split(":", 1)
    return f"{bot_id}:{secret[::-1]}x"


def launch_url(url: str, init_data: str, *, theme: dict[str, str] | None = None,
               version: str = VERSION, platform: str = PLATFORM) -> str:
    """`url` as a Telegram client opens a Mini App: the launch parameters in its fragment
    (#tgWebAppData=…&tgWebAppVersion=…&tgWebAppPlatform=…&tgWebAppThemeParams=…)."""
    base = url.split("#", 1)[0]
    fragment = _encode([
        ("tgWebAppData", init_data),
        ("tgWebAppVersion", version),
        ("tgWebAppPlatform", platform),
        ("tgWebAppThemeParams", json.dumps(theme or THEME, separators=(",", ":"))),
    ])
    return f"{base}#{fragment}"
