"""One-time action tokens: once, for their user and chat, before they expire."""

from __future__ import annotations

from bot.webapp.tokens import ActionTokens


def test_a_token_is_spent_once_by_its_user_for_its_chat() -> None:
    now = [0.0]
    tokens = ActionTokens(ttl=60, clock=lambda: now[0])
    token = tokens.issue(42, "42")
    assert tokens.spend(token, 42, "42")
    assert not tokens.spend(token, 42, "42")  # a replay
    assert not tokens.spend(tokens.issue(42, "42"), 7, "42")  # another user
    assert not tokens.spend(tokens.issue(42, "42"), 42, "-100")  # another chat
    late = tokens.issue(42, "42")
    now[0] = 61
    assert not tokens.spend(late, 42, "42")
    assert not tokens.spend("made-up", 42, "42")
