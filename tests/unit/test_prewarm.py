"""Pre-starting CLIs after a restart, and the default cap on live CLIs from available memory."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.claude.prewarm import most_recent, prewarm
from bot.util.memory import CLI_BYTES, MAX_LIVE, MIN_LIVE, available_memory, live_clients_for
from tests.unit.test_claude_runner import FakeCLI, fake_cli, make_session, runner, store, turn  # noqa: F401


def test_live_clients_follow_available_memory_within_bounds(tmp_path: Path) -> None:
    assert live_clients_for(10 * CLI_BYTES + 1) == 10
    assert live_clients_for(CLI_BYTES) == MIN_LIVE and live_clients_for(None) == MIN_LIVE
    assert live_clients_for(1000 * CLI_BYTES) == MAX_LIVE
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    2048000 kB\n")
    assert available_memory(meminfo) == 2048000 * 1024


async def test_the_most_recent_sessions_are_prestarted_leaving_one_place_free(store) -> None:  # noqa: F811
    cap = runner(max_live=3)
    sessions = [make_session(store, f"s{i}") for i in range(4)]
    for age, session in enumerate(sessions):
        session.record.chat_id = age + 1
        session.record.session_id = f"sid-{age}"
        session.record.last_activity = time.time() - 100 * age
    sessions[0].record.session_id = None  # nothing to resume: not worth a process
    assert [s.name for s in most_recent(sessions, 2)] == ["s1", "s2"]
    assert await prewarm(cap, sessions) == 2
    assert FakeCLI.alive == 2 and FakeCLI.connects == ["sid-1", "sid-2"]
    outcome = await turn(cap, sessions[1], "hello")
    assert outcome.text == "echo: hello" and FakeCLI.alive == 2  # answered by the pre-started CLI
    await cap.close_all()


async def test_a_turn_arriving_during_a_prestart_uses_that_cli(store) -> None:  # noqa: F811
    cap = runner(max_live=3)
    session = make_session(store, "s")
    session.record.chat_id, session.record.session_id = 1, "sid"
    warming = asyncio.create_task(prewarm(cap, [session]))
    await asyncio.sleep(0)  # the pre-start is connecting
    outcome = await turn(cap, session, "now")
    assert outcome.text == "echo: now" and len(FakeCLI.instances) == 1
    assert await warming == 1
    await cap.close_all()
