"""One log line per turn, per approval and per stop: what an operator reads to know what the bot did."""

from __future__ import annotations

import logging

log = logging.getLogger("bot.activity")


def seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def cost(value: float | None) -> str:
    return "cost unknown" if value is None else f"${value:.4f}"


def turn_done(key: object, elapsed: float, spent: float | None, outcome: str, why: str = "") -> None:
    """`outcome`: "answered", "stopped", "failed" (`why`: the chat's sentence), "cut short by the stop"."""
    log.info("turn in chat %s: %s after %s, %s%s", key, outcome, seconds(elapsed), cost(spent), f": {why}" if why else "")


def approval(key: object, tool: str, how: str, reason: str = "") -> None:
    log.info("approval in chat %s: %s %s%s", key, tool, how, f" ({reason})" if reason else "")


def stop_asked(session: str) -> None:
    log.info("stop in session %s: the running turn is interrupted", session)
