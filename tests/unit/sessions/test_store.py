import asyncio
import json
import stat
from pathlib import Path

import pytest

from bot.sessions.keys import ChatKey
from bot.sessions.manager import SessionManager
from bot.sessions.records import SessionRecord
from bot.sessions.store import SessionStore


def record(name: str, **fields: object) -> SessionRecord:
    return SessionRecord(name=name, working_dir="/tmp", **fields)


async def test_writes_are_debounced_atomic_and_private(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s", debounce=0.2)
    store.prepare()
    rec = record("1")
    for i in range(50):
        rec.session_id = f"sid-{i}"
        store.save_soon(rec)
    await asyncio.sleep(0.5)
    assert store.writes == 1
    data = json.loads((tmp_path / "s" / "1.json").read_text())
    assert data["session_id"] == "sid-49"
    assert data["version"] == 1 and data["saved_at"] > 0
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "s" / "1.json").stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "s").iterdir()] == ["1.json"]  # no temporary files left


async def test_flush_writes_pending_now(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, debounce=60)
    store.save_soon(record("-100_7", session_id="abc"))
    await store.flush()
    assert json.loads((tmp_path / "-100_7.json").read_text())["session_id"] == "abc"


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b'{"version": 1}', b"[]"])
async def test_corrupt_file_is_moved_aside_and_chat_starts_fresh(tmp_path: Path, content: bytes) -> None:
    store = SessionStore(tmp_path, debounce=0.05)
    (tmp_path / "5.json").write_bytes(content)
    (tmp_path / "6.json").write_text(record("6", session_id="keep").model_dump_json())
    manager = SessionManager(store, tmp_path)
    assert manager.restore() == 2
    fresh = await manager.for_chat(ChatKey(5))
    assert fresh.session_id is None
    kept = await manager.for_chat(ChatKey(6))
    assert kept.session_id == "keep"
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("5.json.") and p.name.endswith(".corrupt")]
    assert len(aside) == 1 and aside[0].read_bytes() == content


async def test_manager_loads_lazily_and_cleans_up_idle(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, debounce=0.01)
    for name, age in [("1", 10), ("2", 10_000), ("3", 100_000)]:
        rec = record(name)
        rec.last_activity -= age
        (tmp_path / f"{name}.json").write_text(rec.model_dump_json())
    manager = SessionManager(store, tmp_path)
    assert manager.restore() == 3
    assert manager.loaded() == []  # nothing parsed at start
    assert manager.count == 3
    removed = await manager.cleanup_idle(5_000, lambda session: False)  # none running
    assert removed == 2
    await store.flush()
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["1.json"]


async def test_new_conversation_keeps_the_old_one_in_history(tmp_path: Path) -> None:
    manager = SessionManager(SessionStore(tmp_path, debounce=0.01), tmp_path)
    manager.restore()
    session = await manager.for_chat(ChatKey(9))
    session.record_result(session_id="s1", cumulative_cost=0.5, input_tokens=3, output_tokens=4)
    session.record_result(session_id="s1", cumulative_cost=0.75, input_tokens=3, output_tokens=4)
    assert session.record.totals.turns == 2
    assert session.record.totals.cost_usd == pytest.approx(0.75)
    assert session.record.last_turn is not None and session.record.last_turn.cost_usd == pytest.approx(0.25)
    assert session.start_new_conversation() == "s1"
    assert session.session_id is None
    assert [p.session_id for p in session.record.history] == ["s1"]
    session.switch_to("s1")
    assert session.session_id == "s1" and session.record.history == []


async def test_a_stored_directory_outside_allowed_paths_is_not_resumed(tmp_path: Path) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    store = SessionStore(tmp_path, debounce=0.01)
    (tmp_path / "7.json").write_text(SessionRecord(name="7", working_dir=str(elsewhere)).model_dump_json())
    (tmp_path / "8.json").write_text(SessionRecord(name="8", working_dir=str(work / "sub")).model_dump_json())
    manager = SessionManager(store, work, allowed_paths=[work])
    manager.restore()
    assert (await manager.for_chat(ChatKey(7))).record.working_dir == str(work)  # ALLOWED_PATHS changed since
    assert (await manager.for_chat(ChatKey(8))).record.working_dir == str(work / "sub")
