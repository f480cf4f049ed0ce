"""A scripted webhook sink: a real aiohttp server on 127.0.0.1 that plays a chat provider.

Tests, the demo and the benchmarks point channels at it and script, per path, how it answers::

    async with Sink() as sink:
        url = sink.script("/slack", retry_after(0.2), ok())   # first a 429, then 200 "ok"
        hang_url = sink.script("/dead", hang())                # never answers
        ...
        assert sink.bodies("/slack") == [{"text": "..."}, {"text": "..."}]

Behaviours of a path are used in order, one per request; the last one repeats. A path that
was not scripted gets the sink's `default` (200 "ok"). Every request is recorded *before* its
behaviour runs, so a request that hangs or is reset still counts as having reached the sink.

Behaviours: `ok`, `status`, `retry_after` (header or Discord-style JSON body), `hang`, `reset`
(accept, then a TCP reset), `slow_body`, `huge`, `redirect`. A behaviour is any
`async (request) -> StreamResponse | None`; None means the connection was dealt with already.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import orjson
from aiohttp import web

Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse | None]]

_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Received:
    """One request that reached the sink. `json` is None when the body was not JSON."""

    path: str
    method: str
    headers: Mapping[str, str]
    body: bytes
    json: Any
    at: float  # time.monotonic() when it arrived


def _answer(code: int, body: bytes, headers: Mapping[str, str] | None = None) -> Behaviour:
    async def answer(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, body=body, headers=dict(headers or {}))

    return answer


def ok(status: int = 200, body: bytes = b"ok") -> Behaviour:
    """A success answer (Slack: 200 "ok"; Discord: `ok(204, b"")`; Teams: `ok(202, b"")`)."""
    return _answer(status, body)


def status(code: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> Behaviour:
    """Any status with a body and headers, e.g. `status(500)`, `status(400, b"invalid_payload")`."""
    return _answer(code, body, headers)


def retry_after(seconds: float, *, json: bool = False) -> Behaviour:
    """429 with `Retry-After: <seconds>`, or with Discord's JSON body `{"retry_after": s}` and
    Telegram's `{"parameters": {"retry_after": s}}` when `json` is true."""
    if json:
        body = orjson.dumps(
            {
                "message": "You are being rate limited.",
                "retry_after": seconds,
                "global": False,
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {seconds}",
                "parameters": {"retry_after": seconds},
            }
        )
        return _answer(429, body, {"Content-Type": "application/json"})
    shown = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
    return _answer(429, b"rate limited", {"Retry-After": shown})


def hang() -> Behaviour:
    """Accept the request and never answer (until the sink closes)."""

    async def answer(_request: web.Request) -> web.StreamResponse:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")  # pragma: no cover

    return answer


def reset() -> Behaviour:
    """Accept the request, then close the connection with a TCP reset (RST), no answer."""

    async def answer(request: web.Request) -> None:
        transport = request.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()

    return answer


def slow_body(seconds: float, status: int = 200, size: int = 1024) -> Behaviour:
    """Send the headers at once, then trickle `size` body bytes over `seconds`."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Length": str(size)})
        await response.prepare(request)
        steps = 10
        piece = max(size // steps, 1)
        sent = 0
        with contextlib.suppress(ConnectionError):
            while sent < size:
                await asyncio.sleep(seconds / steps)
                chunk = b"x" * min(piece, size - sent)
                await response.write(chunk)
                sent += len(chunk)
            await response.write_eof()
        return response

    return answer


def huge(size: int = 10 * 1024 * 1024, status: int = 200) -> Behaviour:
    """A `size`-byte answer (10 MB by default), streamed; stops quietly if the client leaves."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Length": str(size)})
        await response.prepare(request)
        chunk = b"x" * _CHUNK
        sent = 0
        with contextlib.suppress(ConnectionError):
            while sent < size:
                part = chunk[: min(_CHUNK, size - sent)]
                await response.write(part)
                sent += len(part)
            await response.write_eof()
        return response

    return answer


def redirect(location: str, code: int = 302) -> Behaviour:
    """A redirect to `location` (e.g. another host) that a webhook client must not follow."""
    return _answer(code, b"", {"Location": location})


class Sink:
    """The scripted sink; an async context manager serving on 127.0.0.1 at a free port."""

    def __init__(self, default: Behaviour | None = None) -> None:
        self.default = default or ok()
        self.received: list[Received] = []
        self.base_url = ""
        self.port = 0
        self._scripts: dict[str, deque[Behaviour]] = {}
        self._arrived: dict[str, asyncio.Condition] = defaultdict(asyncio.Condition)
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    def script(self, path: str, *behaviours: Behaviour) -> str:
        """Script `path` (replacing any earlier script); returns its full URL."""
        if not path.startswith("/"):
            raise ValueError("path must start with /")
        self._scripts[path] = deque(behaviours or (self.default,))
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def requests(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def count(self, path: str) -> int:
        return len(self.requests(path))

    def bodies(self, path: str) -> list[Any]:
        """The JSON bodies posted to `path`, in arrival order."""
        return [r.json for r in self.requests(path)]

    async def wait_for(
        self,
        path: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109  # a test's own bound on waiting, kept simple
    ) -> list[Received]:
        """Wait until `path` got at least `count` requests; raises TimeoutError otherwise."""
        condition = self._arrived[path]
        async with asyncio.timeout(timeout), condition:
            await condition.wait_for(lambda: self.count(path) >= count)
        return self.requests(path)

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.1
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in list(self._handlers):  # release hanging handlers at once
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            parsed = None
        path = request.path
        self.received.append(
            Received(path, request.method, dict(request.headers), body, parsed, time.monotonic())
        )
        condition = self._arrived[path]
        async with condition:
            condition.notify_all()
        behaviour = self._next(path)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            response = await behaviour(request)
        finally:
            if task is not None:
                self._handlers.discard(task)
        if response is None:  # the behaviour dropped the connection itself
            raise asyncio.CancelledError
        return response

    def _next(self, path: str) -> Behaviour:
        queue = self._scripts.get(path)
        if not queue:
            return self.default
        return queue.popleft() if len(queue) > 1 else queue[0]
