"""A stand-in for an OpenAI-compatible transcription API (``POST /v1/audio/transcriptions``).

It "hears" the audio bytes as UTF-8 text, so a test sends ``b"list the files"`` as a voice note
and gets that transcript. Strict like OpenAI's endpoint where it matters: multipart only, a
``file`` and a ``model`` field, a bearer token when one is set; ``fail_next(status)`` answers the
next request with an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass
class Transcription:
    model: str
    filename: str
    content_type: str
    audio: bytes
    authorization: str | None


class TranscribeStandin:
    def __init__(self, api_key: str = "sk-test-transcribe") -> None:
        self.api_key = api_key
        self.requests: list[Transcription] = []
        self.base_url = ""
        self._fail: list[int] = []
        self._runner: web.AppRunner | None = None

    def fail_next(self, status: int) -> None:
        self._fail.append(status)

    async def start(self) -> None:
        app = web.Application(client_max_size=26 * 1024 * 1024)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _transcribe(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization")
        if self.api_key and authorization != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided")
        if not request.content_type.startswith("multipart/"):
            return _error(400, "Expected multipart/form-data")
        form = await request.post()
        upload, model = form.get("file"), form.get("model")
        if not isinstance(upload, web.FileField) or not isinstance(model, str) or not model:
            return _error(400, "'file' and 'model' are required")
        audio = upload.file.read()
        self.requests.append(Transcription(model, upload.filename, upload.content_type, audio, authorization))
        if self._fail:
            return _error(self._fail.pop(0), "stand-in failure")
        return web.json_response({"text": audio.decode("utf-8", errors="replace")})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error"}}, status=status)
