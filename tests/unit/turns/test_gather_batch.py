"""One intent, one prompt: queued turns merge (bot/turns/batch.py); pastes and albums gather (bot/turns/gather.py)."""

import asyncio
from collections import deque

from bot.sessions.keys import ChatKey
from bot.sessions.session import Turn
from bot.turns.batch import take_batch
from bot.turns.gather import Gatherer

A, B = ChatKey(1), ChatKey(-100)


def turn(prompt: str, key: ChatKey = A, user: int = 7, reply_to: int = 0, images=()) -> Turn:
    return Turn(key=key, prompt=prompt, user_id=user, reply_to=reply_to, images=list(images), id=reply_to)


def test_waiting_turns_of_one_person_merge_in_order():
    queue = deque([turn("fix the login bug", reply_to=1), turn("it is in auth.py", reply_to=2, images=[("image/png", b"x")]),
                   turn("and add a test", reply_to=3), turn("someone else", user=8, reply_to=4)])
    merged = take_batch(queue)
    assert merged.prompt == "fix the login bug\n\nit is in auth.py\n\nand add a test"
    assert merged.reply_to == 1 and merged.id == 1 and merged.images == [("image/png", b"x")]
    assert [t.reply_to for t in merged.merged] == [1, 2, 3]  # each merged message stays reachable
    assert [t.prompt for t in queue] == ["someone else"]  # another speaker's turn stays queued


def test_a_single_turn_is_taken_as_it_is():
    only = turn("hello")
    merged = take_batch(deque([only]))
    assert merged is only and merged.merged == []


async def nobody_told(t: Turn) -> None:
    raise AssertionError(f"{t.prompt!r} was not a message of its own")


async def test_short_message_is_not_held_and_a_paste_is_gathered():
    submitted: list[Turn] = []

    async def submit(t: Turn) -> None:
        submitted.append(t)

    gather = Gatherer(submit, nobody_told, window=0.2)
    assert gather.hold(A, 7, starts_group=False) is None  # submitted at once by the caller
    for i, text in enumerate(["a" * 4096, "b" * 4096, "tail"]):
        slot = gather.hold(A, 7, starts_group=len(text) >= 4000)
        assert slot is not None
        gather.fill(slot, turn(text, reply_to=i + 1))
    other = gather.hold(B, 7, starts_group=False)
    assert other is None  # another chat is not held up
    for _ in range(100):
        if submitted:
            break
        await asyncio.sleep(0.02)
    [merged] = submitted
    assert merged.prompt == "a" * 4096 + "\n" + "b" * 4096 + "\ntail" and merged.reply_to == 1


async def test_an_album_waits_for_every_download_and_keeps_order():
    submitted: list[Turn] = []

    async def submit(t: Turn) -> None:
        submitted.append(t)

    gather = Gatherer(submit, nobody_told, window=0.05)
    slots = [gather.hold(A, 7, starts_group=True) for _ in range(3)]
    gather.fill(slots[2], turn("[third]", images=[("image/jpeg", b"3")]))
    gather.fill(slots[0], turn("caption\n\n[first]", images=[("image/jpeg", b"1")]))
    await asyncio.sleep(0.2)
    assert submitted == []  # the second file is still downloading
    gather.fill(slots[1], None)  # it failed (and was answered on its own)
    for _ in range(100):
        if submitted:
            break
        await asyncio.sleep(0.02)
    [merged] = submitted
    assert merged.prompt == "caption\n\n[first]\n[third]"
    assert [data for _, data in merged.images] == [b"1", b"3"]


async def test_a_file_that_joins_a_paste_is_told_where_its_answer_is():
    submitted: list[Turn] = []
    told: list[Turn] = []

    async def submit(t: Turn) -> None:
        submitted.append(t)

    async def joined(t: Turn) -> None:
        told.append(t)

    gather = Gatherer(submit, joined, window=0.05)
    paste = gather.hold(A, 7, starts_group=True)
    photo = gather.hold(A, 7, starts_group=False, apart=True)
    assert paste is not None and photo is not None
    gather.fill(paste, turn("a" * 4096, reply_to=1))
    gather.fill(photo, turn("[a photo]", reply_to=2))
    for _ in range(100):
        if told:
            break
        await asyncio.sleep(0.02)
    [merged] = submitted
    assert merged.reply_to == 1 and [t.reply_to for t in told] == [2]  # answered once: a pointer to the one answer


async def test_a_message_edited_while_its_paste_gathers_goes_to_claude_edited():
    submitted: list[Turn] = []

    async def submit(t: Turn) -> None:
        submitted.append(t)

    gather = Gatherer(submit, nobody_told, window=0.2)
    slots = [gather.hold(A, 7, starts_group=len(text) >= 4000, message_id=i + 1) for i, text in enumerate(["a" * 4096, "tpyo", "lsat"])]
    assert all(slot is not None for slot in slots)
    gather.fill(slots[0], turn("a" * 4096, reply_to=1))
    gather.fill(slots[1], turn("tpyo", reply_to=2))
    assert gather.edit(A, 8, 2, "typo") is None  # another person's group: not theirs to edit
    assert gather.edit(A, 7, 4, "typo") is None  # no such message held
    edited = gather.edit(A, 7, 2, "typo")
    assert edited is slots[1] and edited.turn is not None and edited.turn.prompt == "typo"
    assert gather.edit(A, 7, 3, "last") is slots[2]  # edited before its handler filled it in
    gather.fill(slots[2], turn("lsat", reply_to=3))
    for _ in range(100):
        if submitted:
            break
        await asyncio.sleep(0.02)
    [merged] = submitted
    assert merged.prompt == "a" * 4096 + "\ntypo\nlast"
    assert gather.edit(A, 7, 2, "too late") is None  # sent: the scheduler's queue (or Claude) has it now
