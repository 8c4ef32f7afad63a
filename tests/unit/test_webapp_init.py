"""The tests' Mini App signer (tests/e2e/webapp_init.py), checked against the check the bot uses: aiogram's
safe_parse_webapp_init_data. Two independent implementations of Telegram's spec agreeing is what makes the
browser tests' accepted and refused init data mean something."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote

import pytest
from aiogram.utils.web_app import safe_parse_webapp_init_data

from tests.e2e.webapp_init import (
    THEME,
    expired_init_data,
    forged_init_data,
    launch_url,
    signed_init_data,
    tampered_init_data,
    unsigned_init_data,
)

TOKEN = "123456:TEST-TOKEN"


def test_signed_init_data_is_accepted_with_every_field() -> None:
    data = signed_init_data(
        TOKEN, 1001, first_name="Ann Lee", last_name="Ö", username="ann", auth_date=1_700_000_000,
        start_param="chat-1", chat_type="sender", chat_instance="-4242", query_id="AAHdF6IQAAAAAN0XohAOqR8k",
    )
    parsed = safe_parse_webapp_init_data(TOKEN, data)
    assert parsed.user is not None
    assert (parsed.user.id, parsed.user.first_name, parsed.user.last_name, parsed.user.username) == (
        1001, "Ann Lee", "Ö", "ann")
    assert parsed.user.language_code == "en" and parsed.user.allows_write_to_pm is True
    assert int(parsed.auth_date.timestamp()) == 1_700_000_000
    assert (parsed.start_param, parsed.chat_type, parsed.chat_instance, parsed.query_id) == (
        "chat-1", "sender", "-4242", "AAHdF6IQAAAAAN0XohAOqR8k")
    assert "%20" in data and "+" not in data  # spaces as a Telegram client encodes them


def test_auth_date_defaults_to_now() -> None:
    parsed = safe_parse_webapp_init_data(TOKEN, signed_init_data(TOKEN, 1001))
    assert abs(parsed.auth_date.timestamp() - time.time()) < 60
    assert parsed.query_id is None and parsed.chat_type is None  # only what was asked for is there


@pytest.mark.parametrize("make", [
    lambda: forged_init_data(TOKEN, 1001),
    lambda: unsigned_init_data(TOKEN, 1001),
    lambda: tampered_init_data(TOKEN, 1001, as_user=1002),
    lambda: signed_init_data("654321:OTHER-TOKEN", 1001),
], ids=["forged", "unsigned", "tampered", "another bot"])
def test_forged_variants_are_refused(make: Callable[[], str]) -> None:
    with pytest.raises(ValueError):
        safe_parse_webapp_init_data(TOKEN, make())


def test_variants_are_what_they_say() -> None:
    assert "hash=" not in unsigned_init_data(TOKEN, 1001)
    tampered = dict(parse_qsl(tampered_init_data(TOKEN, 1001, as_user=1002)))
    assert json.loads(tampered["user"])["id"] == 1002
    # Expired: correctly signed (aiogram accepts the signature), only old; the freshness check is the bot's.
    old = safe_parse_webapp_init_data(TOKEN, expired_init_data(TOKEN, 1001, age=3 * 24 * 3600))
    assert time.time() - old.auth_date.timestamp() > 3 * 24 * 3600 - 60
    other = safe_parse_webapp_init_data(TOKEN, signed_init_data(TOKEN, 6666))
    assert other.user is not None and other.user.id == 6666


def test_launch_url_carries_telegrams_launch_parameters() -> None:
    data = signed_init_data(TOKEN, 1001)
    url = launch_url("https://127.0.0.1:8443/app/?chat=5#old", data)
    base, fragment = url.split("#", 1)
    assert base == "https://127.0.0.1:8443/app/?chat=5"
    params = dict(parse_qsl(fragment))
    assert list(params) == ["tgWebAppData", "tgWebAppVersion", "tgWebAppPlatform", "tgWebAppThemeParams"]
    assert params["tgWebAppData"] == data  # what Telegram.WebApp.initData then holds, byte for byte
    assert (params["tgWebAppVersion"], params["tgWebAppPlatform"]) == ("9.1", "android")
    assert json.loads(params["tgWebAppThemeParams"]) == THEME
    assert unquote(fragment.split("&", 1)[0].removeprefix("tgWebAppData=")) == data  # quoted once
