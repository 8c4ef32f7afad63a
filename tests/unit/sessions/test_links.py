import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.sessions.keys import ChatKey
from bot.sessions.links import LINKS_FILE, Link, LinkError, LinksFileError, LinkStore, SessionRoutes
from bot.sessions.manager import SessionManager
from bot.sessions.store import SessionStore

A, B, C = ChatKey(1), ChatKey(-100, 7), ChatKey(-100, 8)


def test_round_trip_is_versioned_private_and_atomic(tmp_path: Path) -> None:
    directory = tmp_path / "sessions"
    store = LinkStore(directory)
    link = store.create([A, B], name="  the   team ")
    assert link.name == "the team" and link.session_name == f"link-{link.id}"
    data = json.loads((directory / LINKS_FILE).read_text())
    assert data["version"] == 1
    assert data["links"][0]["members"] == ["1", "-100_7"]
    assert stat.S_IMODE((directory / LINKS_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert sorted(p.name for p in directory.iterdir()) == ["identity-map.json", "identity-map.lock"]
    assert LinkStore(directory).load() == [link]
    assert LinkStore(directory).get(link.id) == link


def test_a_write_replaces_the_file(tmp_path: Path) -> None:
    store = LinkStore(tmp_path)
    link = store.create([A, B])
    before = (tmp_path / LINKS_FILE).stat().st_ino
    store.join(A, C)
    assert (tmp_path / LINKS_FILE).stat().st_ino != before  # renamed over, never rewritten in place
    assert store.get(link.id).members == [A, B, C]  # type: ignore[union-attr]


def test_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    # Each writer has its own LinkStore (its own lock file descriptor), like the bot and the CLI.
    def make(i: int) -> str:
        return LinkStore(tmp_path).create([ChatKey(2 * i), ChatKey(2 * i + 1)]).id

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(make, range(1, 41)))
    assert {link.id for link in LinkStore(tmp_path).load()} == ids and len(ids) == 40


@pytest.mark.parametrize(
    "members, message",
    [([A], "at least two"), ([A, A], "listed twice"), ([], "at least two")],
)
def test_create_validates(tmp_path: Path, members: list[ChatKey], message: str) -> None:
    with pytest.raises(LinkError, match=message):
        LinkStore(tmp_path).create(members)
    assert not (tmp_path / LINKS_FILE).exists()


def test_a_chat_is_in_at_most_one_link_and_never_in_a_group(tmp_path: Path) -> None:
    store = LinkStore(tmp_path, groups={"team": [ChatKey(9)]})
    store.create([A, B])
    before = (tmp_path / LINKS_FILE).read_bytes()
    with pytest.raises(LinkError, match="already in link"):
        store.create([C, B])
    with pytest.raises(LinkError, match="already in link"):
        store.join(B, A)
    with pytest.raises(LinkError, match="chat group 'team'"):
        store.create([C, ChatKey(9)])
    with pytest.raises(LinkError, match="no link with id"):
        store.delete("nope")
    with pytest.raises(LinkError, match="at most 64"):
        store.create([C, ChatKey(10)], name="x" * 65)
    assert (tmp_path / LINKS_FILE).read_bytes() == before


def test_remove_member_dissolves_a_link_left_with_one_chat(tmp_path: Path) -> None:
    store = LinkStore(tmp_path)
    link = store.create([A, B, C])
    assert store.remove_member(B) == link  # the link as it was
    assert store.get(link.id).members == [A, C]  # type: ignore[union-attr]
    assert store.remove_member(A) is not None
    assert store.load() == []
    assert store.remove_member(A) is None
    assert store.delete(store.create([A, B]).id).members == [A, B]
    assert store.load() == []


def test_join_creates_then_extends_the_source_link(tmp_path: Path) -> None:
    store = LinkStore(tmp_path)
    link = store.join(A, B)
    assert link.members == [A, B]
    assert store.join(A, C).members == [A, B, C]
    assert store.join(B, ChatKey(4)).id == link.id  # any member's code leads to the same link
    with pytest.raises(LinkError, match="already in link"):
        store.join(A, C)
    with pytest.raises(LinkError, match="other chat"):
        store.join(A, A)
    other = store.join(ChatKey(5), ChatKey(6))
    with pytest.raises(LinkError, match="unlink it first"):
        store.join(ChatKey(5), A)
    assert store.get(other.id).members == [ChatKey(5), ChatKey(6)]  # type: ignore[union-attr]


def test_a_corrupt_file_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / LINKS_FILE).write_text("{not json")
    store = LinkStore(tmp_path)
    with pytest.raises(LinksFileError, match="not a valid links file"):
        store.load()
    with pytest.raises(LinksFileError):
        store.create([A, B])
    assert (tmp_path / LINKS_FILE).read_text() == "{not json"
    (tmp_path / LINKS_FILE).write_text('{"version": 99, "links": []}')
    with pytest.raises(LinksFileError, match="newer version"):
        store.load()


def test_routes_pick_up_changes_made_by_another_process(tmp_path: Path) -> None:
    routes = SessionRoutes(LinkStore(tmp_path), {})
    assert routes.session_name(A) == "1"
    assert routes.session_name(B) == "-100_7"
    cli = LinkStore(tmp_path)  # the operator CLI, with its own store
    link = cli.create([B, A])
    assert routes.session_name(A) == routes.session_name(B) == f"link-{link.id}"
    assert routes.seed_from(link.session_name) == B  # the first chat's conversation carries on
    assert routes.members(link.session_name) == [B, A]
    assert routes.link_of(A) == link and routes.link_of(C) is None
    cli.join(A, C)
    assert routes.session_name(C) == link.session_name
    cli.delete(link.id)
    assert routes.session_name(A) == "1"
    assert routes.members(link.session_name) == [] and routes.seed_from(link.session_name) is None


def test_routes_do_not_reread_an_unchanged_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LinkStore(tmp_path)
    store.create([A, B])
    routes = SessionRoutes(store, {})
    routes.session_name(A)
    loads = []
    monkeypatch.setattr(store, "load", lambda: loads.append(1) or [])
    for _ in range(100):
        routes.session_name(A)
    assert loads == []


def test_routes_keep_the_last_good_links_when_the_file_breaks(tmp_path: Path) -> None:
    store = LinkStore(tmp_path)
    link = store.create([A, B])
    routes = SessionRoutes(store, {})
    assert routes.session_name(A) == link.session_name
    tmp = tmp_path / "broken"
    tmp.write_text("{")
    os.replace(tmp, tmp_path / LINKS_FILE)
    assert routes.session_name(A) == link.session_name


def test_groups_resolve_and_other_chats_are_unchanged(tmp_path: Path) -> None:
    routes = SessionRoutes(LinkStore(tmp_path), {"team": [B, C]})
    assert routes.session_name(B) == routes.session_name(C) == "group-team"
    assert routes.group_of(C) == "team" and routes.group_of(A) is None
    assert routes.seed_from("group-team") == B
    assert routes.members("group-team") == [B, C]
    assert routes.session_name(A) == "1"
    assert routes.seed_from("1") is None and routes.members("1") == []
    assert routes.seed_from("group-gone") is None


async def test_manager_seeds_a_link_from_its_first_chat_and_leaves_own_files_alone(tmp_path: Path) -> None:
    sessions = SessionStore(tmp_path, debounce=0.01)
    links = LinkStore(tmp_path)
    manager = SessionManager(sessions, tmp_path, SessionRoutes(links, {}))
    manager.restore()
    first = await manager.for_chat(A)
    first.record.session_id = "conversation-a"
    first.save()
    await sessions.flush()
    own_file = (tmp_path / "1.json").read_bytes()
    link = links.create([A, B])
    shared = await manager.for_chat(B)
    assert shared.name == link.session_name and shared.session_id == "conversation-a"
    assert await manager.for_chat(A) is shared
    await sessions.flush()
    assert (tmp_path / "1.json").read_bytes() == own_file
    links.remove_member(B)
    assert (await manager.for_chat(A)).session_id == "conversation-a"
    assert (await manager.for_chat(A)).name == "1"


def test_link_model_accepts_stored_keys() -> None:
    link = Link.model_validate({"id": "x", "members": ["1", "-5_2"], "created_at": 0, "updated_at": 0})
    assert link.members == [ChatKey(1), ChatKey(-5, 2)]


def test_an_upgraded_group_keeps_its_place_in_links(tmp_path: Path) -> None:
    store = LinkStore(tmp_path)
    link = store.create([ChatKey(1), ChatKey(-4001)], name="pair")
    assert store.replace_member(ChatKey(-4001), ChatKey(-1004001)) is True
    assert store.get(link.id).members == [ChatKey(1), ChatKey(-1004001)]
    assert store.replace_member(ChatKey(-4001), ChatKey(-1004001)) is False
