"""One-time pairing codes for `/link`: short enough to type on a phone, never stored in clear.

A code is 8 characters from a 31-letter alphabet without look-alikes (about 8.5e11 codes);
with at most 5 wrong tries per user per 10 minutes, guessing one is hopeless. Codes live in
memory only: a restart simply voids them.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.errors import Refused
from bot.sessions.keys import ChatKey

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 8


class PairingError(Refused):
    """A refused code; the message is one sentence for the user."""


@dataclass(frozen=True)
class _Issued:
    user_id: int
    key: ChatKey
    expires_at: float


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize(code: str) -> str:
    """Forgive lower case, spaces and dashes as typed on a phone."""
    return "".join(code.split()).replace("-", "").upper()


@dataclass(kw_only=True)
class Pairing:
    ttl: float = 600
    max_failures: int = 5
    window: float = 600
    clock: Callable[[], float] = time.monotonic
    _codes: dict[str, _Issued] = field(default_factory=dict, init=False)  # sha256 of the code -> who made it, where
    _failures: dict[int, deque[float]] = field(default_factory=dict, init=False)

    def issue(self, user_id: int, key: ChatKey) -> str:
        """A new code for `user_id` in chat `key`; it replaces the user's earlier code."""
        now = self.clock()
        self._codes = {h: c for h, c in self._codes.items() if c.expires_at > now and c.user_id != user_id}
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        self._codes[_digest(code)] = _Issued(user_id, key, now + self.ttl)
        return code

    def redeem(self, user_id: int, code: str) -> ChatKey:
        """The chat that issued `code`; the code is used up. Raises PairingError otherwise."""
        now = self.clock()
        failures = self._failures.setdefault(user_id, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) >= self.max_failures:
            minutes = math.ceil((failures[0] + self.window - now) / 60)
            raise PairingError(f"Too many wrong codes; try again in {minutes} min.")
        digest = _digest(normalize(code))
        issued = self._codes.get(digest)
        # Someone else's code counts as a wrong one and stays valid for its owner.
        if issued is None or issued.user_id != user_id:
            failures.append(now)
            raise PairingError("That code is wrong or already used; send /link in the first chat for a new one.")
        del self._codes[digest]
        if issued.expires_at <= now:
            raise PairingError("That code has expired; send /link in the first chat for a new one.")
        self._failures.pop(user_id, None)
        return issued.key
