"""bot.features.usage: per-day windows in UTC and the budget sentences."""

from __future__ import annotations

import calendar
import time
from pathlib import Path

import pytest

from bot.features.usage import BudgetSpent, Usage, resets_at, since
from bot.sessions.manager import SessionManager
from bot.sessions.records import SessionRecord, Totals
from bot.sessions.session import ClaudeSession
from bot.sessions.store import SessionStore

NOW = calendar.timegm((2026, 11, 30, 20, 47, 30))  # 20:47:30 UTC


def _session(tmp_path: Path, days: dict[str, float]) -> ClaudeSession:
    record = SessionRecord(name="1", working_dir=str(tmp_path))
    record.daily_usage = {day: Totals(turns=1, input_tokens=10, output_tokens=1, cost_usd=cost) for day, cost in days.items()}
    return ClaudeSession(record=record, store=SessionStore(tmp_path / "s"))


def test_windows_count_utc_days_today_included(tmp_path: Path) -> None:
    session = _session(tmp_path, {"2026-11-30": 1.0, "2026-11-24": 2.0, "2026-11-23": 4.0})
    assert since(session, 1, NOW).cost_usd == 1.0
    assert since(session, 7, NOW).cost_usd == 3.0
    assert since(session, 7, NOW).turns == 2


def test_the_day_resets_at_utc_midnight() -> None:
    assert resets_at(NOW) == "at 00:00 UTC (in 3 h 13 min)"
    assert resets_at(NOW + 3 * 3600 + 12 * 60) == "at 00:00 UTC (in 1 min)"  # 30 s left: rounded up


async def test_the_chat_budget_is_told_first_and_unset_budgets_refuse_nothing(tmp_path: Path) -> None:
    session = _session(tmp_path, {"2026-11-30": 1.0})
    manager = SessionManager(session.store, tmp_path)
    assert await Usage(manager, None, None).refusal(session, NOW) is None
    assert await Usage(manager, None, 1.5).refusal(session, NOW) is None
    refusal = await Usage(manager, 0.5, 1.0).refusal(session, NOW)
    assert refusal == "This chat has used its daily budget of $1.00; it resets at 00:00 UTC (in 3 h 13 min)."
    assert await Usage(manager, None, 1.0).budget_lines(session, NOW) == ["Chat budget today: $0.0000 left of $1.00"]


async def test_check_raises_the_sentence_as_a_refusal_said_in_the_chat(tmp_path: Path) -> None:
    session = _session(tmp_path, {time.strftime("%Y-%m-%d", time.gmtime()): 1.0})
    manager = SessionManager(session.store, tmp_path)
    await Usage(manager, None, 1.5).check(session)
    with pytest.raises(BudgetSpent, match=r"^This chat has used its daily budget of \$1\.00; it resets at 00:00 UTC"):
        await Usage(manager, None, 1.0).check(session)
