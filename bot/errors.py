"""Errors whose message is one sentence for whoever asked: the chat (handlers/context.py `say_refusal`) or the operator CLI."""

from __future__ import annotations


class Refused(ValueError):
    """A request the bot turns down: a path outside the roots, a bad setting, a wrong code, a refused link."""


class Unreadable(RuntimeError):
    """Stored state the bot cannot read now (it is left as it is), so the request cannot be done."""


SAID_IN_CHAT = (Refused, Unreadable)
