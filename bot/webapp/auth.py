"""Who is asking: Telegram's signed init data on every request, fresh, from an allowed user.

The page sends the init data Telegram put in its URL fragment as `Authorization: tma <initData>`; the
signature check (the bot token's HMAC, aiogram's helper) is injected, so this module holds only the rules.
Init data is signed once, when the page is opened, so it ages with the page: after MAX_AGE the page asks
to be opened again from the chat (a copied URL stops working within the hour).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.errors import Refused

MAX_AGE = 3600.0  # seconds an opened page's init data is accepted
FUTURE_SKEW = 300.0  # init data signed "later" than now: a clock this far off is not believed


@dataclass(frozen=True)
class Viewer:
    """A person whose init data Telegram signed."""

    user_id: int
    name: str
    auth_date: float  # Unix time Telegram signed it at


class Refusal(Refused):
    """A request the page is refused: one sentence (for the page, or the chat), and the HTTP status that goes with it."""

    def __init__(self, sentence: str, status: int = 403) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.status = status


# Returns the viewer the init data names; ValueError when the signature is not the bot's.
InitDataCheck = Callable[[str], Viewer]

NOT_FROM_TELEGRAM = "This page only works when opened from the bot's button in Telegram."
BAD_SIGNATURE = "Telegram's signature on this page's data does not match this bot; open it again from the bot's button."
EXPIRED = "This page was opened more than an hour ago; open it again from the bot's button."
NOT_ALLOWED = "You are not in this bot's ALLOWED_USERS."


def viewer_of(
    authorization: str | None, check: InitDataCheck, allowed_users: Iterable[int], *, now: float, max_age: float = MAX_AGE
) -> Viewer:
    """The viewer an Authorization header proves, or Refusal."""
    scheme, _, init_data = (authorization or "").partition(" ")
    if scheme != "tma" or not init_data.strip():
        raise Refusal(NOT_FROM_TELEGRAM, 401)
    try:
        viewer = check(init_data.strip())
    except ValueError:
        raise Refusal(BAD_SIGNATURE, 401) from None
    if not (now - max_age <= viewer.auth_date <= now + FUTURE_SKEW):
        raise Refusal(EXPIRED, 401)
    if viewer.user_id not in set(allowed_users):
        raise Refusal(NOT_ALLOWED, 403)
    return viewer
