"""Voice notes and audio files go to the intake: transcribed, shown, and sent to Claude as the prompt."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.app import Core
from bot.sessions.inbox import Accepted
from bot.telegram.files import recording_of
from handlers.context import incoming_of

router = Router(name="voice")


@router.message(F.voice | F.audio)
async def received(message: Message, core: Core, bot: Bot, accepted: Accepted | None = None) -> None:
    recording = recording_of(bot, message)
    assert recording is not None  # the filter guarantees a voice note or an audio file
    incoming = await incoming_of(message, bot, accepted, text=(message.caption or "").strip())
    await core.intake.voice_note(incoming, recording)
