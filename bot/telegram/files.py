"""Downloading what users send (reads, not writes, so they do not go through the outbox)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.types import Message

from bot.features.files import BoundedWriter, Upload
from bot.features.voice import Recording

DOWNLOAD_TIMEOUT = 120  # seconds for a 20 MB file on a slow link


def _fetcher(bot: Bot, file_id: str) -> Callable[[BoundedWriter], Awaitable[None]]:
    async def download(destination: BoundedWriter) -> None:
        # Chunk by chunk into the file: an upload is never held whole in memory.
        await bot.download(file_id, destination=destination, timeout=DOWNLOAD_TIMEOUT, seek=False)  # type: ignore[arg-type]

    return download


def _reader(bot: Bot, file_id: str) -> Callable[[], Awaitable[bytes]]:
    async def read() -> bytes:
        # A recording is small (bounded by its duration and MAX_BYTES) and goes to the transcriber whole.
        data = await bot.download(file_id, timeout=DOWNLOAD_TIMEOUT)
        return data.read() if data is not None else b""

    return read


def upload_of(bot: Bot, message: Message) -> Upload | None:
    """The document or photo of a message (a photo's largest size), or None if it has neither."""
    if message.document is not None:
        document = message.document
        return Upload(name=document.file_name, size=document.file_size, download=_fetcher(bot, document.file_id))
    if message.photo:
        photo = message.photo[-1]
        return Upload(name=None, size=photo.file_size, download=_fetcher(bot, photo.file_id), image_type="image/jpeg")
    return None


def recording_of(bot: Bot, message: Message) -> Recording | None:
    """The voice note or audio file of a message, or None if it has neither."""
    if message.voice is not None:
        voice = message.voice
        mime = voice.mime_type or "audio/ogg"
        return Recording("voice.ogg", mime, voice.duration, voice.file_size, _reader(bot, voice.file_id))
    if message.audio is not None:
        audio = message.audio
        mime = audio.mime_type or "audio/mpeg"
        name = audio.file_name or "audio." + mime.rsplit("/", 1)[-1]
        return Recording(name, mime, audio.duration, audio.file_size, _reader(bot, audio.file_id))
    return None
