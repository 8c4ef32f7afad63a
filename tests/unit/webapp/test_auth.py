"""Init data: aiogram's signature check (bot/telegram/webapp.py) and the rules of bot/webapp/auth.py."""

from __future__ import annotations

import time

import pytest

from bot.telegram.webapp import init_data_check
from bot.webapp.auth import BAD_SIGNATURE, EXPIRED, NOT_ALLOWED, NOT_FROM_TELEGRAM, Refusal, viewer_of
from tests.unit.webapp.signing import TOKEN, init_data

CHECK = init_data_check(TOKEN)


def _viewer(header: str | None, now: float | None = None):  # type: ignore[no-untyped-def]
    return viewer_of(header, CHECK, [42], now=time.time() if now is None else now)


def test_init_data_the_bot_signed_names_its_user() -> None:
    viewer = _viewer("tma " + init_data())
    assert (viewer.user_id, viewer.name) == (42, "Ann")


@pytest.mark.parametrize(
    ("header", "sentence", "status"),
    [
        (None, NOT_FROM_TELEGRAM, 401),
        ("tma ", NOT_FROM_TELEGRAM, 401),
        ("Bearer " + init_data(), NOT_FROM_TELEGRAM, 401),
        ("tma " + init_data(sign=False), BAD_SIGNATURE, 401),  # unsigned
        ("tma " + init_data("654321:another-bots-token"), BAD_SIGNATURE, 401),  # forged: another token's HMAC
        ("tma " + init_data().replace("Ann", "Bob"), BAD_SIGNATURE, 401),  # altered after signing
        ("tma " + init_data(auth_date=time.time() - 3601), EXPIRED, 401),
        ("tma " + init_data(auth_date=time.time() + 3600), EXPIRED, 401),  # "signed" in the future
        ("tma " + init_data(user_id=7), NOT_ALLOWED, 403),  # signed, but not an allowed user
        ("tma not=a&query", BAD_SIGNATURE, 401),
    ],
)
def test_refused_init_data_is_one_sentence(header: str | None, sentence: str, status: int) -> None:
    with pytest.raises(Refusal) as refused:
        _viewer(header)
    assert (refused.value.sentence, refused.value.status) == (sentence, status)
    assert refused.value.sentence.count(". ") == 0 and refused.value.sentence.endswith(".")


def test_init_data_within_the_hour_is_fresh() -> None:
    assert _viewer("tma " + init_data(auth_date=time.time() - 3500)).user_id == 42
