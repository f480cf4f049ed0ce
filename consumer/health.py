"""The service's own HTTP endpoints on `HTTP_PORT`: `/metrics`, `/livez`, `/readyz`.

- `/livez`: 200 while the event loop answers and the consume loop has not died. The handler runs
  on the same loop as the consumer, so a blocked loop shows as a failed probe.
- `/readyz`: 200 once the consumer has joined its group and the channel directory is loaded (and
  caught up with its topic); 503 with the missing conditions otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from consumer.metrics import REGISTRY

Check = Callable[[], dict[str, bool]]


class HealthServer:
    def __init__(self, port: int, alive: Callable[[], bool], ready: Check) -> None:
        self._port = port
        self._alive = alive
        self._ready = ready
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host="0.0.0.0", port=self._port)  # noqa: S104 - probes
        await site.start()
        server = site._server  # aiohttp has no public accessor for the bound port
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _livez(self, _request: web.Request) -> web.Response:
        ok = self._alive()
        return web.Response(status=200 if ok else 503, text="ok\n" if ok else "consume loop died\n")

    async def _readyz(self, _request: web.Request) -> web.Response:
        checks = self._ready()
        ok = all(checks.values())
        return web.Response(
            status=200 if ok else 503,
            body=orjson.dumps({"ready": ok, "checks": checks}),
            content_type="application/json",
        )
