"""How updates reach the bot: getUpdates long polling, or a webhook (setWebhook, deliveries, retries)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.standins.telegram.errors import ApiError, _Abandoned, bad_request
from tests.standins.telegram.limits import _DEFAULT_EXCLUDED_UPDATES
from tests.standins.telegram.params import _Params


class Delivery:
    """Part of TelegramStandin (see standin.py for its state)."""

    def _set_webhook(self, p: _Params) -> bool:
        url = p.get_str("url") or ""
        secret = p.get_str("secret_token") or ""
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if (parts.port or 443) not in (80, 88, 443, 8443):
                raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.get_json("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed]
        self._webhook_url = url
        self._webhook_secret = secret
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        self._poll_generation += 1  # a pending long poll is terminated
        if url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())
        self._notify()
        return True

    def _delete_webhook(self, p: _Params) -> bool:
        self._webhook_url = ""
        self._webhook_secret = ""
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return True

    def webhook_info(self) -> dict[str, Any]:
        return {"url": self._webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def _get_webhook_info(self, p: _Params) -> dict[str, Any]:
        return self.webhook_info()

    async def _deliver_webhook(self) -> None:
        """POST pending updates to the webhook (via `webhook_proxy`), several at once as Telegram does;
        an update leaves the queue only when the bot answered it with 200, else it is retried."""
        async with aiohttp.ClientSession() as client:
            posts: set[asyncio.Task[None]] = set()
            while self._webhook_url and not self._stopping:
                waiting = [
                    u for u in self._updates if self._is_allowed(u) and u["update_id"] not in self._webhook_in_flight
                ]
                for update in waiting[: max(0, 40 - len(self._webhook_in_flight))] if self.webhook_proxy else []:
                    self._webhook_in_flight.add(update["update_id"])  # at most max_connections (40) at once
                    post = asyncio.get_running_loop().create_task(self._post_update(client, update))
                    posts.add(post)
                    post.add_done_callback(posts.discard)
                await self._wait_change(0.2)
            for post in list(posts):
                post.cancel()
            await asyncio.gather(*posts, return_exceptions=True)

    async def _post_update(self, client: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        url = (self.webhook_proxy or "").rstrip("/") + (urlsplit(self._webhook_url).path or "/")
        headers = {"X-Telegram-Bot-Api-Secret-Token": self._webhook_secret} if self._webhook_secret else {}
        status: int | None = None
        try:
            async with client.post(url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=60)) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        self.webhook_posts.append((update["update_id"], status))
        if status == 200:
            self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
        else:
            await asyncio.sleep(0.5)  # Telegram retries a failed delivery later
        self._webhook_in_flight.discard(update["update_id"])
        self._notify()

    async def _get_updates(self, p: _Params, client_gone: Callable[[], bool]) -> list[dict[str, Any]]:
        if self._webhook_url:
            raise ApiError(
                409, "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        offset = p.get_int("offset")
        limit = p.get_int("limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = max(p.get_int("timeout") or 0, 0)
        allowed = p.get_json("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed updates JSON object")
            self._allowed_updates = [str(a) for a in allowed]

        if offset is not None:
            if offset < 0:
                self._updates = self._updates[offset:]  # keep only the last -offset updates
            else:
                # confirmed updates are forgotten for good
                self._updates = [u for u in self._updates if u["update_id"] >= offset]

        # Only one getUpdates may be pending: a newer one terminates the older with 409.
        self._polls_started += 1
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # A killed or stopped bot leaves its poll behind; it must not later show up as a 409.
            if client_gone():
                raise _Abandoned
            if generation != self._poll_generation:
                raise ApiError(409, self._default_description(409))
            eligible = [u for u in self._updates if self._is_allowed(u)][:limit]
            remaining = deadline - loop.time()
            if eligible or remaining <= 0 or self._stopping:
                return eligible
            await self._wait_change(min(remaining, 0.2))  # also re-check for a vanished client

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if not self._allowed_updates:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates
