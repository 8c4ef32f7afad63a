"""Session records load through versioned migration steps; a newer bot's file is refused, never misread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.sessions import records
from bot.sessions.records import NewerRecord, load_record
from bot.sessions.store import SessionStore


def test_a_record_of_this_version_loads_as_it_is() -> None:
    record = load_record(json.dumps({"version": 1, "name": "5", "working_dir": "/w", "title": "t"}))
    assert (record.name, record.title, record.version) == ("5", "t", 1)


def test_an_older_record_goes_through_each_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(records.MIGRATIONS, 1, lambda data: {**data, "title": data.pop("label")})
    record = load_record(json.dumps({"version": 1, "name": "5", "working_dir": "/w", "label": "old name"}), current=2)
    assert record.title == "old name" and record.version == 2


def test_a_newer_record_is_refused_in_one_sentence() -> None:
    with pytest.raises(NewerRecord, match=r"newer version of the bot \(record version 3, this one reads up to 1\)"):
        load_record(json.dumps({"version": 3, "name": "5", "working_dir": "/w"}))


async def test_the_store_leaves_a_newer_file_where_it_is(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    store.prepare()
    raw = json.dumps({"version": 99, "name": "5", "working_dir": "/w"})
    store.path("5").write_text(raw)
    store.path("5").chmod(0o600)
    with pytest.raises(NewerRecord):
        await store.load("5")
    assert store.path("5").read_text() == raw  # not set aside as corrupt: a newer bot can still read it
