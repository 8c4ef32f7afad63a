"""Injected faults: failures of the next calls or downloads, floods with retry_after windows, outages."""

from __future__ import annotations

import math
import time
from typing import Any

from tests.standins.telegram.errors import ApiError
from tests.standins.telegram.limits import _FLOOD_TOLERANCE, SENDING_METHODS
from tests.standins.telegram.params import _Params
from tests.standins.telegram.records import _Fault


class Faults:
    """Part of TelegramStandin (see standin.py for its state)."""

    def fail_next(
        self,
        method: str | None = None,
        *,
        count: int = 1,
        error_code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """The next `count` calls of `method` (None = any sending method) fail with error_code.

        A 429 also opens a retry_after window for that chat: a sending call arriving inside it
        gets another 429 and is recorded as a flood violation.
        """
        self._faults.append(_Fault(method.lower() if method else None, count, error_code, retry_after, description))

    def fail_downloads(self, count: int = 1, status: int = 502) -> None:
        """The next `count` downloads from the file URL (`/file/bot<token>/<path>`) get `status`."""
        self._download_failures.extend([status] * count)

    def flood(self, *, every: int, retry_after: int = 1) -> None:
        """Every Nth sending call gets 429 retry_after (every=0 turns it off)."""
        self._flood_every = every
        self._flood_retry_after = retry_after
        self._flood_counter = 0

    def set_down(self, down: bool, *, mode: str = "500") -> None:
        """Simulate an outage: "500" answers 500, "timeout" hangs until the client gives up,
        "close" drops the connection without an answer."""
        if mode not in ("500", "timeout", "close"):
            raise ValueError(f"unknown outage mode {mode!r}")
        self._down = mode if down else None
        self._notify()

    def _flood_key(self, params: _Params) -> Any:
        value = params.raw.get("chat_id")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return value

    def _too_many(self, key: Any, retry_after: int) -> ApiError:
        self._flood_windows[key] = time.monotonic() + retry_after
        return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def _check_faults(self, method: str, params: _Params) -> ApiError | None:
        """Returns the error for a flood-window violation; raises injected faults; else None."""
        sending = method in SENDING_METHODS
        key = self._flood_key(params)
        if sending:
            window_end = self._flood_windows.get(key)
            now = time.monotonic()
            if window_end is not None and now < window_end - _FLOOD_TOLERANCE:
                left = max(1, math.ceil(window_end - now))
                return ApiError(429, f"Too Many Requests: retry after {left}", retry_after=left)
        for fault in self._faults:
            if fault.remaining > 0 and (fault.method == method or (fault.method is None and sending)):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                if fault.error_code == 429:
                    raise self._too_many(key, fault.retry_after)
                raise ApiError(fault.error_code, fault.description or self._default_description(fault.error_code))
        if sending and self._flood_every > 0:
            self._flood_counter += 1
            if self._flood_counter % self._flood_every == 0:
                raise self._too_many(key, self._flood_retry_after)
        return None

    @staticmethod
    def _default_description(code: int) -> str:
        return {
            400: "Bad Request: injected failure",
            403: "Forbidden: bot was blocked by the user",
            409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(code, f"Error {code}")
