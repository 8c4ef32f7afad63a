import pytest
from aiogram.exceptions import TelegramBadRequest

from bot.sessions.keys import ChatKey
from bot.telegram.notify import mirror_to_session
from bot.turns.mirror import drain_mirrored
from tests.unit.conftest import BotApi

A, B = ChatKey(1), ChatKey(-100, 7)


async def test_mirror_to_session_sends_plain_text_and_records_it(bot_api: BotApi) -> None:
    settings, calls = bot_api
    message_id = await mirror_to_session(B, "x" * 5000, "cron", settings=settings)
    assert message_id == 101
    assert [(c["chat_id"], c["message_thread_id"], len(c["text"])) for c in calls] == [
        ("-100", "7", 4096), ("-100", "7", 904)
    ]
    assert "parse_mode" not in calls[0]
    [message] = drain_mirrored(settings.session_dir, [B])
    assert message.text == "x" * 4096 + "\n" + "x" * 904 and message.source == "cron"


async def test_failed_delivery_is_not_recorded(bot_api: BotApi) -> None:
    settings, _ = bot_api
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await mirror_to_session(A, "fail", "cron", settings=settings)
    assert drain_mirrored(settings.session_dir, [A]) == []


async def test_a_failure_to_record_does_not_break_delivery(bot_api: BotApi, caplog: pytest.LogCaptureFixture) -> None:
    settings, calls = bot_api
    (settings.session_dir / "mirror").write_text("a file where the directory should be")
    assert await mirror_to_session(A, "hello", "cron", settings=settings) == 101
    assert len(calls) == 1
    assert "could not record" in caplog.text
