"""Drafts in the outbox: paced with the chat's other calls, merged, never ahead of the answer, 429s honoured."""

import asyncio

from bot.sessions.keys import ChatKey
from tests.unit.telegram.test_outbox import KEY, bad_request, retry_after

TOPIC = ChatKey(1, 9)


def drafts(env):
    return [(m.draft_id, m.text) for m in env.session.sent("sendMessageDraft")]


async def test_a_draft_goes_at_once_to_its_chat_and_thread_with_the_stop_button(env):
    env.box.draft(TOPIC, 42, "")
    await env.box.flush()
    [(at, draft)] = env.session.calls
    assert at == 0.0 and draft.__api_method__ == "sendMessageDraft"
    assert (draft.chat_id, draft.message_thread_id, draft.draft_id, draft.text) == (1, 9, 42, "")
    assert draft.can_stop and draft.keep_on_stop and draft.parse_mode is None


async def test_pending_drafts_take_the_newest_text(env):
    for _ in range(3):  # the burst is spent: the next draft waits
        await env.box.send_text(KEY, "x")
    env.session.calls.clear()
    for i in range(5):
        env.box.draft(KEY, 42, f"v{i}")
    await env.box.flush()
    assert drafts(env) == [(42, "v4")]


async def test_a_draft_leaves_a_token_for_the_answer_and_gives_way_to_it(env):
    env.box.draft(KEY, 42, "a")  # 3 tokens -> 2
    env.box.draft(KEY, 43, "b")  # 2 -> 1
    await env.box.flush()
    answer: list[asyncio.Task] = []
    # The next draft would take the last token: it waits for a spare one, and gives way to the answer.
    env.time.during_sleep = lambda: answer or answer.append(asyncio.ensure_future(env.box.send_text(KEY, "the answer")))
    env.box.draft(KEY, 44, "c")
    await env.box.flush()
    assert await answer[0] is not None
    calls = [(t, m.__api_method__, m.text) for t, m in env.session.calls]
    assert calls == [(0.0, "sendMessageDraft", "a"), (0.0, "sendMessageDraft", "b"), (0.05, "sendMessage", "the answer")]


async def test_dropped_drafts_are_never_sent(env):
    for _ in range(3):
        await env.box.send_text(KEY, "x")
    env.session.calls.clear()
    env.box.draft(KEY, 42, "old text")
    env.box.drop_drafts(42)  # the turn's final message is on its way
    env.box.draft(KEY, 7, "another turn's")
    await env.box.flush()
    assert drafts(env) == [(7, "another turn's")]


async def test_flood_control_on_drafts_is_honoured(env):
    env.session.fail("sendMessageDraft", retry_after(5))
    env.box.draft(KEY, 42, "streaming")
    await env.box.flush()
    assert [(t, m.__api_method__) for t, m in env.session.calls] == [(0.0, "sendMessageDraft"), (5.0, "sendMessageDraft")]


async def test_a_draft_in_a_flood_wait_gives_way_to_the_answer(env):
    env.session.fail("sendMessageDraft", retry_after(5))
    env.box.draft(KEY, 42, "streaming")
    env.time.during_sleep = lambda: env.box.drop_drafts(42) if env.box._queue else None
    answer = asyncio.create_task(env.box.send_text(KEY, "the answer"))
    await asyncio.sleep(0)
    assert await answer is not None
    calls = [(t, m.__api_method__) for t, m in env.session.calls]
    assert calls[0] == (0.0, "sendMessageDraft") and calls[1:] == [(5.0, "sendMessage")]  # the wait holds, then the answer


async def test_a_refused_draft_says_why_and_is_not_retried(env):
    refused: list[str] = []
    env.session.fail("sendMessageDraft", bad_request("TEXTDRAFT_PEER_INVALID"))
    env.box.draft(KEY, 42, "x", on_refused=refused.append)
    await env.box.flush()
    assert refused == ["Bad Request: TEXTDRAFT_PEER_INVALID"] and len(env.session.calls) == 1
