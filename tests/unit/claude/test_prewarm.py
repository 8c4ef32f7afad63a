"""Pre-starting CLIs after a restart: the most recent chats, into free places only."""

from __future__ import annotations

import asyncio
import time

from bot.claude.prewarm import most_recent, prewarm
from bot.sessions.session import ClaudeSession
from tests.unit.claude.test_runner import FakeCLI, fake_cli, make_session, runner, store, turn  # noqa: F401


def idle(session: ClaudeSession) -> bool:
    return False  # the scheduler's is_running: no turn runs here


async def test_the_most_recent_sessions_are_prestarted_leaving_one_place_free(store) -> None:  # noqa: F811
    cap = runner(max_live=3)
    sessions = [make_session(store, f"s{i}") for i in range(4)]
    for age, session in enumerate(sessions):
        session.record.chat_id = age + 1
        session.record.session_id = f"sid-{age}"
        session.record.last_activity = time.time() - 100 * age
    sessions[0].record.session_id = None  # nothing to resume: not worth a process
    assert [s.name for s in most_recent(sessions, 2)] == ["s1", "s2"]
    assert await prewarm(cap, sessions, idle) == 2
    assert FakeCLI.alive == 2 and FakeCLI.connects == ["sid-1", "sid-2"]
    outcome = await turn(cap, sessions[1], "hello")
    assert outcome.text == "echo: hello" and FakeCLI.alive == 2  # answered by the pre-started CLI
    await cap.close_all()


async def test_a_turn_arriving_during_a_prestart_uses_that_cli(store) -> None:  # noqa: F811
    cap = runner(max_live=3)
    session = make_session(store, "s")
    session.record.chat_id, session.record.session_id = 1, "sid"
    warming = asyncio.create_task(prewarm(cap, [session], idle))
    await asyncio.sleep(0)  # the pre-start is connecting
    outcome = await turn(cap, session, "now")
    assert outcome.text == "echo: now" and len(FakeCLI.instances) == 1
    assert await warming == 1
    await cap.close_all()
