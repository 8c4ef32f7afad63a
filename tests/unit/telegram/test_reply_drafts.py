"""A private chat's turn as a draft: shown at once, paced, stoppable, and ended by a new message."""

import asyncio

from bot.sessions.keys import ChatKey
from bot.telegram.reply import LONG_TURN, StreamingReply
from tests.unit.telegram.test_reply import MARKUP, settle

KEY = ChatKey(1)
TOPIC = ChatKey(1, 9)
GROUP = ChatKey(-100)


def drafted(outboxes, clock, key=KEY, **kwargs) -> StreamingReply:
    return StreamingReply(outboxes, key, reply_to=77, stop_markup=MARKUP, draft_of="the-session", clock=clock, **kwargs)


def draft_texts(session) -> list[str]:
    return [m.text for m in session.sent("sendMessageDraft")]


async def stream(reply, outboxes, clock, *chunks: str) -> None:
    for chunk in chunks:
        clock.now += 1.1
        reply.append_text(chunk)
        await settle(outboxes)


async def test_a_private_turn_streams_as_drafts_and_ends_with_a_new_message(outboxes, session, clock):
    reply = drafted(outboxes, clock, key=TOPIC)
    await reply.start()
    await settle(outboxes)
    assert draft_texts(session) == [""]  # at once: Telegram shows "Thinking…"
    reply.set_status("🔧 Bash: ls")
    await stream(reply, outboxes, clock, "first ", "second")
    texts = draft_texts(session)
    assert len(set(texts)) == 3 and texts[-1].endswith("🔧 Bash: ls\n\nfirst second")
    assert all(d.can_stop and d.message_thread_id == 9 and d.draft_id == session.sent("sendMessageDraft")[0].draft_id
               for d in session.sent("sendMessageDraft"))  # one draft, animated, in its topic
    await reply.finish("first **second**")
    await settle(outboxes)
    [answer] = session.sent("sendMessage")  # no progress message at all: the answer is a new message
    assert answer.text == "first second" and answer.reply_parameters.message_id == 77 and answer.message_thread_id == 9
    assert session.sent("editMessageText") == [] and session.sent("deleteMessage") == []
    assert session.sent("sendChatAction") == []  # the draft says Claude is at it


async def test_no_draft_of_a_turn_after_its_final_message(outboxes, session, clock):
    reply = drafted(outboxes, clock)
    await reply.start()
    await stream(reply, outboxes, clock, "text")
    reply.append_text(" more")  # pending when the turn ends
    await reply.finish("text more")
    clock.now += 10
    await asyncio.sleep(0.05)
    await settle(outboxes)
    methods = [m.__api_method__ for _, m in session.calls]
    assert methods[-1] == "sendMessage" and "sendMessageDraft" not in methods[methods.index("sendMessage"):]


async def test_a_refused_draft_falls_back_to_a_progress_message_with_the_text_so_far(outboxes, session, clock):
    reply = drafted(outboxes, clock)
    await reply.start()
    await stream(reply, outboxes, clock, "kept ")
    session.fail("sendMessageDraft", "TEXTDRAFT_PEER_INVALID")
    await stream(reply, outboxes, clock, "words")
    [progress] = session.sent("sendMessage")
    assert progress.text.startswith("⏳ Working…") and progress.text.endswith("kept words") and progress.reply_markup == MARKUP
    await stream(reply, outboxes, clock, " and more")
    drafts = len(session.sent("sendMessageDraft"))
    await reply.finish("kept words and more")
    await settle(outboxes)
    assert session.sent("editMessageText")[-1].text == "kept words and more"  # a short turn: edited into the answer
    assert len(session.sent("sendMessageDraft")) == drafts  # the rest of the turn is the progress message's
    assert outboxes.drafts.stopped(KEY, session.sent("sendMessageDraft")[0].draft_id) is None


async def test_telegram_stop_acts_only_on_the_draft_streaming_in_that_chat_and_thread(outboxes, session, clock):
    reply = drafted(outboxes, clock, key=TOPIC)
    await reply.start()
    await settle(outboxes)
    draft_id = session.sent("sendMessageDraft")[0].draft_id
    assert outboxes.drafts.stopped(KEY, draft_id) is None  # the chat without the topic
    assert outboxes.drafts.stopped(ChatKey(2, 9), draft_id) is None
    assert outboxes.drafts.stopped(TOPIC, draft_id + 1) is None
    live = outboxes.drafts.stopped(TOPIC, draft_id)
    assert live is not None and live.session_name == "the-session"
    await stream(reply, outboxes, clock, "after the stop")
    assert len(session.sent("sendMessageDraft")) == 1  # Telegram stops showing drafts: none is sent
    await reply.finish("so far\n\n⏹ Stopped.")
    [answer] = session.sent("sendMessage")
    assert answer.text.endswith("⏹ Stopped.")
    assert outboxes.drafts.stopped(TOPIC, draft_id) is None  # once


async def test_a_finished_draft_is_no_longer_stoppable(outboxes, session, clock):
    reply = drafted(outboxes, clock)
    await reply.start()
    await settle(outboxes)
    draft_id = session.sent("sendMessageDraft")[0].draft_id
    await reply.finish("done")
    assert outboxes.drafts.stopped(KEY, draft_id) is None


async def test_the_draft_names_the_request_that_waits(outboxes, session, clock):
    reply = drafted(outboxes, clock)
    await reply.start()
    reply.set_status("🔧 Bash: touch x")
    reply.set_waiting("Bash: touch x")
    clock.now += 1.1
    await settle(outboxes)
    assert "⏸ Waiting for your answer: Bash: touch x" in draft_texts(session)[-1] and "🔧" not in draft_texts(session)[-1]
    await reply.finish("done")


async def test_a_quiet_draft_is_renewed_before_it_fades_and_not_more_often(outboxes, session, clock):
    reply = drafted(outboxes, clock)
    await reply.start()
    await stream(reply, outboxes, clock, "x")
    before = len(session.sent("sendMessageDraft"))

    async def wake(seconds: float) -> None:  # time passes with nothing new (the loop is woken to look)
        clock.now += seconds
        reply._changed.set()
        await settle(outboxes)

    await wake(6)
    assert len(session.sent("sendMessageDraft")) == before  # the seconds alone are not worth a call
    await wake(15)  # 20 s after the last: renewed (a draft lasts about 30 s), its seconds moved on
    assert len(session.sent("sendMessageDraft")) == before + 1 and "Working… 22s" in draft_texts(session)[-1]
    await reply.finish("x")


async def test_nothing_to_say_but_the_seconds_keeps_telegrams_thinking(outboxes, session, clock):
    reply = drafted(outboxes, clock)
    await reply.start()
    clock.now += 1.1
    reply.refresh()  # /status asked: the draft would show the seconds, but there is nothing else yet
    await settle(outboxes)
    assert set(draft_texts(session)) == {""}
    reply.set_waiting_for_slot("2 chats are using Claude right now (limit 2).")
    clock.now += 1.1
    await settle(outboxes)
    assert "Waiting for a free slot" in draft_texts(session)[-1]
    await reply.finish("x")


async def test_a_long_turn_in_a_group_ends_with_a_new_message(outboxes, session, clock):
    reply = StreamingReply(outboxes, GROUP, reply_to=77, stop_markup=MARKUP, clock=clock)
    await reply.start()
    await settle(outboxes)
    [progress] = session.sent("sendMessage")
    clock.now += LONG_TURN
    await reply.finish("the answer")
    await settle(outboxes)
    answer = session.sent("sendMessage")[-1]
    assert answer.text == "the answer" and answer.reply_parameters.message_id == 77
    assert [d.message_id for d in session.sent("deleteMessage")] == [reply.message_id - 1]
    assert not [e for e in session.sent("editMessageText") if e.text == "the answer"]
    assert session.sent("sendMessageDraft") == []


async def test_a_shutdown_mid_draft_leaves_a_message_the_turn_goes_on_in(outboxes, session, clock):
    shown: list[int] = []
    reply = drafted(outboxes, clock, on_shown=shown.append)
    await reply.start()
    await reply.suspend("⏸ restarting")
    [note] = session.sent("sendMessage")
    assert note.text == "⏸ restarting" and note.reply_markup is None and shown == [session.last_id]
