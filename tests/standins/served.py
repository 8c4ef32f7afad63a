"""What both stand-ins share: an aiohttp app on a local port, started and stopped with `async with`."""

from __future__ import annotations

from typing import Any, Self

from aiohttp import web


class Served:
    _runner: web.AppRunner | None = None
    _site: web.TCPSite | None = None

    async def start(self) -> None:
        raise NotImplementedError

    async def _serve(self, app: web.Application, host: str, port: int, **runner_options: Any) -> str:
        """Serve `app` (port 0: any free one); returns its base URL."""
        self._runner = web.AppRunner(app, access_log=None, **runner_options)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        return f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._site = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
