"""Init data: aiogram's signature check (bot/telegram/webapp.py) and the rules of bot/webapp/auth.py."""

from __future__ import annotations

import time

import pytest

from bot.telegram.webapp import init_data_check
from bot.webapp.auth import BAD_SIGNATURE, EXPIRED, NOT_ALLOWED, NOT_FROM_TELEGRAM, Refusal, viewer_of
from tests.e2e.webapp_init import forged_init_data, signed_init_data, tampered_init_data, unsigned_init_data

TOKEN = "123456:TEST-token-for-init-data"
CHECK = init_data_check(TOKEN)


def _viewer(header: str | None, now: float | None = None):  # type: ignore[no-untyped-def]
    return viewer_of(header, CHECK, [42], now=time.time() if now is None else now)


def test_init_data_the_bot_signed_names_its_user() -> None:
    viewer = _viewer("tma " + signed_init_data(TOKEN, 42, first_name="Ann"))
    assert (viewer.user_id, viewer.name) == (42, "Ann")


@pytest.mark.parametrize(
    ("header", "sentence", "status"),
    [
        (None, NOT_FROM_TELEGRAM, 401),
        ("tma ", NOT_FROM_TELEGRAM, 401),
        ("Bearer " + signed_init_data(TOKEN, 42), NOT_FROM_TELEGRAM, 401),
        ("tma " + unsigned_init_data(TOKEN, 42), BAD_SIGNATURE, 401),
        ("tma " + forged_init_data(TOKEN, 42), BAD_SIGNATURE, 401),  # another token's HMAC
        ("tma " + tampered_init_data(TOKEN, 7, as_user=42), BAD_SIGNATURE, 401),  # its user changed after signing
        ("tma " + signed_init_data(TOKEN, 42, auth_date=int(time.time()) - 3601), EXPIRED, 401),
        ("tma " + signed_init_data(TOKEN, 42, auth_date=int(time.time()) + 3600), EXPIRED, 401),  # "signed" in the future
        ("tma " + signed_init_data(TOKEN, 7), NOT_ALLOWED, 403),  # signed, but not an allowed user
        ("tma not=a&query", BAD_SIGNATURE, 401),
    ],
)
def test_refused_init_data_is_one_sentence(header: str | None, sentence: str, status: int) -> None:
    with pytest.raises(Refusal) as refused:
        _viewer(header)
    assert (refused.value.sentence, refused.value.status) == (sentence, status)
    assert refused.value.sentence.count(". ") == 0 and refused.value.sentence.endswith(".")


def test_init_data_within_the_hour_is_fresh() -> None:
    assert _viewer("tma " + signed_init_data(TOKEN, 42, auth_date=int(time.time()) - 3500)).user_id == 42
