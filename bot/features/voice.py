"""Voice notes and audio files: transcribed by an OpenAI-compatible API, the transcript is the prompt.

Any service that speaks OpenAI's ``POST {base}/audio/transcriptions`` (multipart ``file`` and
``model``, answering ``{"text": …}``) works: OpenAI, Groq, a local Whisper server. The chat sees
the transcript, so the user knows what Claude was asked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from bot.chat import ChatOutbox
from bot.sessions.session import Turn

log = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "I can't listen to voice messages yet: the bot's operator can enable them by setting "
    "TRANSCRIBE_BASE_URL (an OpenAI-compatible transcription API) and TRANSCRIBE_API_KEY."
)
FAILED = "I could not transcribe that recording; please try again or type the message."
NO_WORDS = "I heard no words in that recording; please try again or type the message."
MAX_BYTES = 25 * 1024 * 1024  # OpenAI's transcription upload limit
TIMEOUT = 180  # seconds for a long recording


class TranscriptionFailed(Exception):
    pass


@dataclass(frozen=True)
class Transcriber:
    base_url: str
    api_key: str | None
    model: str

    async def transcribe(self, audio: bytes, filename: str, mime_type: str) -> str:
        form = aiohttp.FormData()
        form.add_field("file", audio, filename=filename, content_type=mime_type)
        form.add_field("model", self.model)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = self.base_url.rstrip("/") + "/audio/transcriptions"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
                async with http.post(url, data=form, headers=headers) as response:
                    if response.status != 200:
                        # The body may echo the request; the status is enough for the log.
                        raise TranscriptionFailed(f"HTTP {response.status}")
                    body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TranscriptionFailed(type(exc).__name__) from None
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise TranscriptionFailed("no text in the answer")
        return text.strip()


@dataclass
class Recording:
    """A voice note or audio file the user sent, and how to fetch its bytes."""

    filename: str
    mime_type: str
    duration: int
    size: int | None
    fetch: Callable[[], Awaitable[bytes]]


@dataclass
class VoiceNotes:
    transcriber: Transcriber | None
    outbox: ChatOutbox
    max_seconds: int

    async def transcribe(self, turn: Turn, recording: Recording) -> Turn | None:
        """Transcribe and show the transcript: the turn with it as its prompt (after a caption, if any),
        or None once the chat was told why not."""
        if self.transcriber is None:
            return await self._say(turn, NOT_CONFIGURED)
        if recording.duration > self.max_seconds or (recording.size or 0) > MAX_BYTES:
            return await self._say(
                turn, f"That recording is too long to transcribe; the bot takes up to {_minutes(self.max_seconds)}."
            )
        try:
            audio = await recording.fetch()
            if len(audio) > MAX_BYTES:
                return await self._say(turn, f"That recording is too long to transcribe; the bot takes up to {_minutes(self.max_seconds)}.")
            text = await self.transcriber.transcribe(audio, recording.filename, recording.mime_type)
        except Exception as exc:
            log.warning("transcription for %s failed: %s", turn.key, exc)
            return await self._say(turn, FAILED)
        if not text:
            return await self._say(turn, NO_WORDS)
        await self.outbox.send_text(turn.key, f"🎤 {text}", reply_to=turn.reply_to)
        turn.prompt = f"{turn.prompt}\n\n{text}" if turn.prompt else text
        return turn

    async def _say(self, turn: Turn, text: str) -> None:
        await self.outbox.send_text(turn.key, text, reply_to=turn.reply_to)


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"
