"""The HTTP face: routing a request to its method, outages, error bodies, recording every call."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from tests.standins.telegram.errors import ApiError, _Abandoned, bad_request
from tests.standins.telegram.params import _Params
from tests.standins.telegram.records import Call, _Upload


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


class HttpFront:
    """Part of TelegramStandin (see standin.py for its state)."""

    @staticmethod
    def _error_body(error: ApiError) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": error.error_code, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        if error.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": error.migrate_to_chat_id}
        return body

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._notify()

    async def _outage(self, request: web.Request, method: str, params: dict[str, Any]) -> web.StreamResponse:
        """Answer a request while set_down() is in effect."""
        mode = self._down
        at = time.monotonic()
        if mode == "500":
            self._record(Call(method, params, False, 500, "Internal Server Error", at))
            return web.json_response(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"}, status=500
            )
        if mode == "close":
            self._record(Call(method, params, False, None, "connection dropped (stand-in outage)", at))
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # aiohttp treats it as a lost connection and writes nothing
        self._record(Call(method, params, False, None, "no answer (stand-in outage, timeout mode)", at))
        while not self._stopping and not _client_gone(request):
            await self._wait_change(0.1)
        raise asyncio.CancelledError

    async def _read_params(self, request: web.Request) -> _Params:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON encoded request") from None
                if not isinstance(body, dict):
                    raise bad_request("can't parse JSON encoded request")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        upload = _Upload(value.filename or key, value.file.read(), value.content_type)
                        uploads[key] = upload
                        raw[key] = upload
                    else:
                        raw[key] = value
        for value in raw.values():
            # A lone surrogate is no UTF-8 (a JSON "\\ud83d" escape, or bytes that are no UTF-8 at all).
            if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
                raise bad_request("strings must be encoded in UTF-8")
        return _Params(raw, uploads)

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        requested = request.match_info["method"]
        name, handler = self._methods.get(requested.lower(), (requested, None))
        at = time.monotonic()
        params: _Params | None = None
        try:
            if self._down is not None:
                try:
                    decoded = (await self._read_params(request)).decoded()
                except ApiError:
                    decoded = {}
                return await self._outage(request, name, decoded)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if requested.lower() not in self._methods:
                raise ApiError(404, "Not Found")
            params = await self._read_params(request)
            flood_violation = self._check_faults(name.lower(), params)
            if flood_violation is not None:
                self._record(self._error_call(name, params, flood_violation, at, violation=True))
                return web.json_response(self._error_body(flood_violation), status=429)
            if name == "getUpdates":
                result = await self._get_updates(params, lambda: _client_gone(request))
            else:
                assert handler is not None
                result = handler(params)
        except ApiError as error:
            self._record(self._error_call(name, params, error, at))
            return web.json_response(self._error_body(error), status=error.error_code)
        except _Abandoned:
            self._record(Call(name, params.decoded() if params else {}, False, None, "client disconnected", at))
            raise asyncio.CancelledError from None  # nobody is listening for an answer
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the stand-in: make it loud, not a silent hang
            self.internal_errors.append(f"{name}: {type(exc).__name__}: {exc}")
            bug = ApiError(500, f"Internal Server Error: stand-in bug: {type(exc).__name__}: {exc}")
            self._record(self._error_call(name, params, bug, at))
            return web.json_response(self._error_body(bug), status=500)
        self._record(Call(name, params.decoded(), True, None, None, at, result=result))
        return web.json_response({"ok": True, "result": result}, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    @staticmethod
    def _error_call(name: str, params: _Params | None, error: ApiError, at: float, violation: bool = False) -> Call:
        decoded = params.decoded() if params is not None else {}
        return Call(name, decoded, False, error.error_code, error.description, at, flood_violation=violation)
