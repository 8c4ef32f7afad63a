"""One-time action tokens: each page load gets one, bound to its viewer and chat; an action spends it.

A replayed action (the same request sent again, by a proxy's retry or by someone who saw it) finds its
token spent. Tokens live in memory only: a restart spends them all, and the page simply loads again.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from bot.webapp.auth import MAX_AGE

KEPT = 2000  # outstanding tokens at most (the oldest go first): page loads are cheap, memory is not


class ActionTokens:
    def __init__(self, ttl: float = MAX_AGE, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._tokens: OrderedDict[str, tuple[int, str, float]] = OrderedDict()

    def issue(self, user_id: int, chat: str) -> str:
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (user_id, chat, self.clock() + self.ttl)
        while len(self._tokens) > KEPT:
            self._tokens.popitem(last=False)
        return token

    def spend(self, token: str, user_id: int, chat: str) -> bool:
        """True once for a token issued to this user for this chat and not expired; never again."""
        bound = self._tokens.pop(token, None)
        if bound is None:
            return False
        owner, owner_chat, expires = bound
        return owner == user_id and owner_chat == chat and self.clock() < expires
