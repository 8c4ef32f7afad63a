"""Voice notes (issue 10): transcribed by an OpenAI-compatible API; the chat sees the transcript, Claude gets it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.chat import wait_answer
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin
from tests.standins.transcribe_api import TranscribeStandin

pytestmark = pytest.mark.e2e


@pytest.fixture()
async def transcribe() -> AsyncIterator[TranscribeStandin]:
    standin = TranscribeStandin()
    await standin.start()
    yield standin
    await standin.stop()


async def test_a_voice_note_is_transcribed_shown_and_sent_to_claude(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin, transcribe: TranscribeStandin
) -> None:
    bot.extra_env.update(TRANSCRIBE_BASE_URL=transcribe.base_url, TRANSCRIBE_API_KEY=transcribe.api_key)
    await bot.start()
    telegram.user_voice(OWNER, OWNER, "please list the files".encode())
    shown = await wait_answer(telegram, OWNER, "🎤 please list the files", timeout=30)
    await wait_answer(telegram, OWNER, "echo: please list the files", timeout=60)
    assert [r.model for r in transcribe.requests] == ["whisper-1"]
    assert transcribe.requests[0].audio == b"please list the files"
    assert any("please list the files" in t for r in claude_api.main_requests() for t in r.prompt_texts)
    assert shown.reply_to_message_id is not None
    # An audio file too; and a failure costs one sentence and nothing else.
    telegram.user_voice(OWNER, OWNER, b"from an mp3", audio_file="memo.mp3")
    await wait_answer(telegram, OWNER, "echo: from an mp3", timeout=60)
    transcribe.fail_next(500)
    telegram.user_voice(OWNER, OWNER, b"lost words")
    await wait_answer(telegram, OWNER, "could not transcribe", timeout=30)
    telegram.user_voice(OWNER, OWNER, b"too long", duration=5000)
    await wait_answer(telegram, OWNER, "too long to transcribe", timeout=30)
    assert not any("lost words" in t or "too long" in t for r in claude_api.main_requests() for t in r.prompt_texts)
    assert "sk-test-transcribe" not in bot.log_tail(2000)
    assert telegram.errors() == []


async def test_without_a_transcription_service_the_chat_is_told_how_to_enable_it(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    telegram.user_voice(OWNER, OWNER, b"hello")
    notice = await wait_answer(telegram, OWNER, "TRANSCRIBE_BASE_URL", timeout=30)
    assert len(telegram.bot_messages(OWNER)) == 1 and "." in notice.text
    assert claude_api.main_requests() == []
