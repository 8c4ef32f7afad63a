"""Files: stored uploads, attach:// and file_id sends (sendDocument, sendPhoto), getFile and the file URL."""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from aiohttp import web

from tests.standins.telegram.errors import ApiError, bad_request
from tests.standins.telegram.limits import MAX_DOWNLOAD, MAX_UPLOAD, _is_image
from tests.standins.telegram.params import _Params
from tests.standins.telegram.records import _StoredFile, _Upload


class Files:
    """Part of TelegramStandin (see standin.py for its state)."""

    def _store_file(
        self, folder: str, content: bytes, filename: str | None, mime_type: str | None, ext: str | None = None
    ) -> _StoredFile:
        self._file_seq += 1
        n = self._file_seq
        if ext is None:
            ext = ""
            if filename and "." in filename:
                ext = "." + filename.rsplit(".", 1)[1]
        stored = _StoredFile(
            file_id=f"BQACAgIAAxkBAAI{n:06d}standin{folder[:3]}",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{folder}/file_{n}{ext}",
            content=content,
            file_name=filename,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if self._down is not None:
            return await self._outage(request, "file", {"path": path})
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        stored = self._files_by_path.get(path)
        if self._download_failures:
            status = self._download_failures.pop(0)
            return web.json_response({"ok": False, "error_code": status, "description": "Injected failure"}, status=status)
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.content, content_type=stored.mime_type or "application/octet-stream")

    def _upload_or_file(self, p: _Params, key: str, folder: str, kind: str) -> _StoredFile:
        value = p.get_file(key)
        if value is None:
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, _Upload):
            if not value.content:
                raise bad_request("file must be non-empty")
            if len(value.content) > MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            mime = value.content_type if value.content_type not in (None, "application/octet-stream") else None
            mime = mime or mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
            if folder == "photos":
                if not _is_image(value.content):
                    raise bad_request("IMAGE_PROCESS_FAILED")
                return self._store_file(folder, value.content, None, "image/jpeg", ext=".jpg")
            return self._store_file(folder, value.content, value.filename, mime)
        stored = self._files.get(value)
        if stored is not None:
            return stored
        if re.match(r"(?i)^https?://", value):
            name = value.rstrip("/").rsplit("/", 1)[-1] or "file"
            return self._store_file(folder, b"", name, mimetypes.guess_type(name)[0])
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _send_document(self, p: _Params) -> dict[str, Any]:
        return self._send_file(p, "document", "documents")

    def _send_photo(self, p: _Params) -> dict[str, Any]:
        return self._send_file(p, "photo", "photos")

    def _send_file(self, p: _Params, field_name: str, folder: str) -> dict[str, Any]:
        chat = self._target_chat(p)
        caption, caption_entities = self._caption(p)
        stored = self._upload_or_file(p, field_name, folder, field_name)
        sent: dict[str, Any] = (
            {"document": (stored.file_name or "file", stored.content)} if field_name == "document" else {"photo": stored.content}
        )
        message = self._new_bot_message(
            chat, p, text=None, raw_text=p.get_str("caption"), parse_mode=p.get_str("parse_mode"), entities=[],
            caption=caption, caption_entities=caption_entities, file_id=stored.file_id, **sent,
        )
        return self._message_json(message)

    def _get_file(self, p: _Params) -> dict[str, Any]:
        file_id = p.get_str("file_id") or ""
        if not file_id:
            raise bad_request("invalid file_id")
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if len(stored.content) > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return stored.as_json(file_path=stored.file_path)
