"""/usage and the daily budgets: tokens and cost per chat and for the whole bot, from the session records."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.errors import Refused
from bot.sessions.manager import SessionManager
from bot.sessions.records import Totals
from bot.sessions.session import ClaudeSession, utc_day
from bot.util.text import counted, esc


class BudgetSpent(Refused):
    """A daily budget is used up: no new turn until the UTC day ends."""


def since(session: ClaudeSession, days: int, now: float) -> Totals:
    """This session's usage over the last `days` UTC days, today included."""
    first = utc_day(now - (days - 1) * 86400)
    total = Totals()
    for day, usage in session.record.daily_usage.items():
        if day >= first:
            _add(total, usage)
    return total


def _add(total: Totals, usage: Totals) -> None:
    total.turns += usage.turns
    total.input_tokens += usage.input_tokens
    total.output_tokens += usage.output_tokens
    total.cost_usd += usage.cost_usd


def _line(label: str, usage: Totals) -> str:
    return (
        f"{label}: {counted(usage.turns, 'turn')} · {usage.input_tokens:,} tokens in · "
        f"{usage.output_tokens:,} out · ${usage.cost_usd:.4f}"
    )


def resets_at(now: float) -> str:
    """When the current UTC day ends, for the user: 'at 00:00 UTC (in 3 h 12 min)'."""
    left = int(86400 - now % 86400)
    hours, minutes = divmod((left + 59) // 60, 60)
    return f"at 00:00 UTC (in {hours} h {minutes} min)" if hours else f"at 00:00 UTC (in {minutes} min)"


@dataclass(frozen=True)
class Usage:
    manager: SessionManager
    bot_limit: float | None  # MAX_COST_PER_DAY_USD
    chat_limit: float | None  # MAX_CHAT_COST_PER_DAY_USD

    async def _bot(self, days: int | None, now: float) -> Totals:
        total = Totals()
        for session in await self.manager.load_all():
            _add(total, session.record.totals if days is None else since(session, days, now))
        return total

    async def text(self, session: ClaudeSession, now: float | None = None) -> str:
        now = time.time() if now is None else now
        lines = ["<b>Usage</b> (days in UTC)", "", "<b>This chat</b>"]
        lines += [
            _line("Today", since(session, 1, now)),
            _line("Last 7 days", since(session, 7, now)),
            _line("All time", session.record.totals),
            "",
            "<b>Whole bot</b>",
            _line("Today", await self._bot(1, now)),
            _line("Last 7 days", await self._bot(7, now)),
            _line("All time", await self._bot(None, now)),
        ]
        lines += await self.budget_lines(session, now)
        return "\n".join(lines)

    async def budget_lines(self, session: ClaudeSession, now: float | None = None) -> list[str]:
        """What is left of each daily budget today (for /status and /usage)."""
        now = time.time() if now is None else now
        lines = []
        if self.chat_limit is not None:
            left = max(0.0, self.chat_limit - since(session, 1, now).cost_usd)
            lines.append(f"Chat budget today: ${left:.4f} left of ${self.chat_limit:.2f}")
        if self.bot_limit is not None:
            left = max(0.0, self.bot_limit - (await self._bot(1, now)).cost_usd)
            lines.append(f"Bot budget today: ${left:.4f} left of ${self.bot_limit:.2f}")
        return [esc(line) for line in lines]

    async def refusal(self, session: ClaudeSession, now: float | None = None) -> str | None:
        """One sentence when a daily budget is used up (checked before a turn is queued), else None."""
        now = time.time() if now is None else now
        if self.chat_limit is not None and since(session, 1, now).cost_usd >= self.chat_limit:
            return f"This chat has used its daily budget of ${self.chat_limit:.2f}; it resets {resets_at(now)}."
        if self.bot_limit is not None and (await self._bot(1, now)).cost_usd >= self.bot_limit:
            return f"The bot has used its daily budget of ${self.bot_limit:.2f}; it resets {resets_at(now)}."
        return None

    async def check(self, session: ClaudeSession) -> None:
        """Before a turn is queued: raises BudgetSpent (said in the chat) when a daily budget is used up."""
        if refusal := await self.refusal(session):
            raise BudgetSpent(refusal)
