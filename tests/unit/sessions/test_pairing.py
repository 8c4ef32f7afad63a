import hashlib

import pytest

from bot.sessions.keys import ChatKey
from bot.sessions.pairing import ALPHABET, CODE_LENGTH, Pairing, PairingError

A, B = ChatKey(1), ChatKey(-100, 7)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_issue_and_redeem_once() -> None:
    pairing = Pairing()
    code = pairing.issue(42, B)
    assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
    assert pairing.redeem(42, f" {code[:4].lower()}-{code[4:]} ") == B  # as typed on a phone
    with pytest.raises(PairingError, match="wrong or already used"):
        pairing.redeem(42, code)


def test_codes_are_stored_only_hashed() -> None:
    pairing = Pairing()
    code = pairing.issue(42, A)
    stored = repr(vars(pairing))
    assert code not in stored
    assert hashlib.sha256(code.encode()).hexdigest() in stored


def test_codes_expire() -> None:
    clock = Clock()
    pairing = Pairing(ttl=600, clock=clock)
    code = pairing.issue(42, A)
    clock.now += 599
    assert pairing.redeem(42, code) == A
    code = pairing.issue(42, A)
    clock.now += 601
    with pytest.raises(PairingError, match="expired"):
        pairing.redeem(42, code)


def test_a_new_code_replaces_the_users_earlier_one() -> None:
    pairing = Pairing()
    old = pairing.issue(42, A)
    new = pairing.issue(42, B)
    with pytest.raises(PairingError):
        pairing.redeem(42, old)
    assert pairing.redeem(42, new) == B


def test_another_users_code_fails_without_being_used_up() -> None:
    pairing = Pairing()
    code = pairing.issue(42, A)
    with pytest.raises(PairingError, match="wrong"):
        pairing.redeem(7, code)
    assert pairing.redeem(42, code) == A


def test_lockout_after_too_many_wrong_codes_until_the_window_passes() -> None:
    clock = Clock()
    pairing = Pairing(max_failures=5, window=600, clock=clock)
    code = pairing.issue(42, A)
    for _ in range(5):
        clock.now += 1
        with pytest.raises(PairingError, match="wrong"):
            pairing.redeem(42, "AAAAAAAA")
    with pytest.raises(PairingError, match="Too many wrong codes; try again in 10 min"):
        pairing.redeem(42, code)  # even the right code, while locked out
    assert pairing.redeem(7, pairing.issue(7, B)) == B  # other users are not affected
    clock.now += 596  # the first failure leaves the window
    code = pairing.issue(42, A)
    assert pairing.redeem(42, code) == A
