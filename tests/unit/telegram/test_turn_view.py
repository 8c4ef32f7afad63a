"""How a turn's events look in Telegram: the tool line and the stopped note are the view's, not the core's."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sessions.keys import ChatKey
from bot.sessions.records import ChangeRef
from bot.sessions.session import Turn
from bot.telegram.keyboards import DiffCb
from bot.telegram.views.turns import CANCELLED, CUT_BY_RESTART, GAVE_UP, STOPPED, TelegramReply, TelegramTurns


class RecordingReply:
    """Stands in for StreamingReply: records what the view asks of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def set_status(self, line: str) -> None:
        self.calls.append(("status", line))

    def append_text(self, delta: str) -> None:
        self.calls.append(("text", delta))

    async def finish(self, final_markdown: str, *, footer: str = "", reply_markup: Any = None) -> None:
        self.calls.append(("finish", final_markdown))
        if footer or reply_markup is not None:
            self.calls.append(("footer", footer, reply_markup))

    async def suspend(self, note: str) -> None:
        self.calls.append(("suspend", note))


async def test_a_tool_line_gets_its_icon_and_a_stopped_turn_keeps_what_was_said() -> None:
    streaming = RecordingReply()
    reply = TelegramReply(streaming)  # type: ignore[arg-type]
    reply.tool_started("Bash: ls")
    reply.text("half ")
    await reply.stopped("half an answer \n")
    assert streaming.calls == [("status", "🔧 Bash: ls"), ("text", "half "), ("finish", "half an answer\n\n⏹ Stopped.")]


async def test_a_turn_cut_short_by_a_restart_says_it_goes_on_after_the_start() -> None:
    streaming = RecordingReply()
    await TelegramReply(streaming).interrupted()  # type: ignore[arg-type]
    assert streaming.calls == [("suspend", CUT_BY_RESTART)]


async def test_a_turn_that_changed_files_ends_with_the_line_and_a_diff_button_for_that_change() -> None:
    streaming = RecordingReply()
    change = ChangeRef(repo="/r", base="a" * 40, head="b" * 40, files=3, added=40, removed=12)
    await TelegramReply(streaming).finish("Done.", changed=change)  # type: ignore[arg-type]
    (_, answer), (_, footer, markup) = streaming.calls
    assert (answer, footer) == ("Done.", "📝 3 files changed, +40 −12")
    [[button]] = markup.inline_keyboard
    assert button.text == "Diff" and DiffCb.unpack(button.callback_data) == DiffCb(base="a" * 12, head="b" * 12)
    stopped = RecordingReply()
    await TelegramReply(stopped).stopped("", changed=change)  # type: ignore[arg-type]
    assert stopped.calls[0] == ("finish", STOPPED) and stopped.calls[1][1] == "📝 3 files changed, +40 −12"


async def test_a_full_queue_is_one_sentence_in_reply_to_the_refused_message() -> None:
    sent: list[tuple[Any, str, Any]] = []

    class Outboxes:
        async def send_text(self, key: Any, text: str, **kwargs: Any) -> int:
            sent.append((key, text, kwargs.get("reply_to")))
            return 1

    await TelegramTurns(Outboxes()).queue_full(Turn(key=ChatKey(5), prompt="x", reply_to=9), 20)  # type: ignore[arg-type]
    assert sent == [(ChatKey(5), "20 messages are already waiting in this chat, so this one was not queued; "
                     "send it again once Claude has caught up.", 9)]


class LastWordOutboxes:
    """Records whether a turn's last word reached Telegram before the view returned (the turn is settled next)."""

    def __init__(self, edit_shows: bool) -> None:
        self.edit_shows = edit_shows
        self.shown: list[tuple[str, int | None, str]] = []

    def edit_text(self, key: Any, message_id: int, text: str, **kwargs: Any) -> None:
        pass  # queued only: a kill or a flood pause can keep it from Telegram

    async def edit_text_now(self, key: Any, message_id: int, text: str, **kwargs: Any) -> bool:
        if self.edit_shows:
            self.shown.append(("edit", message_id, text))
        return self.edit_shows

    async def send_text(self, key: Any, text: str, **kwargs: Any) -> int:
        self.shown.append(("send", kwargs.get("reply_to"), text))
        return 1


@pytest.mark.parametrize("edit_shows", [True, False])
async def test_a_turn_given_up_or_cancelled_has_its_last_word_shown_before_it_is_settled(edit_shows: bool) -> None:
    turn = Turn(key=ChatKey(5), prompt="x", reply_to=9, queued_message_id=12)
    for say, expected in ((lambda view: view.gave_up(turn, 11), GAVE_UP), (lambda view: view.cancelled(turn), CANCELLED)):
        outboxes = LastWordOutboxes(edit_shows)
        await say(TelegramTurns(outboxes))  # type: ignore[arg-type]
        # In its own message when Telegram took the edit, else a new reply: never only queued.
        [(how, where, text)] = outboxes.shown
        assert text == expected and (how, where) in (("edit", 11), ("edit", 12), ("send", 9))
        assert how == ("edit" if edit_shows else "send")
