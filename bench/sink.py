"""The benchmarks' webhook sink: a separate process serving three "hosts" on 127.0.0.1.

It runs in its own process (`python -m bench.sink`) so that its CPU is not the measured
process's. Each host is one port, like each provider is one host (aiohttp pools connections per
host): `slack` answers 200 "ok", `discord` answers 204, `hang` accepts and never answers. Every
request's arrival time is taken once its body is read; when the body carries `bench_t=<ns>`
(the produce time, see `bench.events.stamp`) the latency is kept.

Control, on any port: `GET /_stats` (counts, first/last arrival, latencies in ms per host) and
`POST /_reset`. `SinkProcess` starts it and talks to it from the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import socket
import subprocess
import sys
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import aiohttp
from aiohttp import web

HOSTS: Final = ("slack", "discord", "hang")
# `bench_t=<ns>` in a rendered message, `"bench_t":<ns>` in a raw record value.
_STAMP: Final = re.compile(rb'bench_t"?[=:](\d{19})')
ROOT: Final = Path(__file__).resolve().parent.parent


@dataclass
class _Host:
    count: int = 0
    first_ns: int = 0
    last_ns: int = 0
    latencies_ms: array[float] = field(default_factory=lambda: array("d"))
    produced_ns: array[int] = field(default_factory=lambda: array("q"))


class _Sink:
    def __init__(self) -> None:
        self.hosts = {name: _Host() for name in HOSTS}
        self.never = asyncio.Event()

    def app(self, host: str) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_get("/_stats", self.stats)
        app.router.add_post("/_reset", self.reset)
        app.router.add_route("*", "/{tail:.*}", self.handler(host))
        return app

    def handler(self, host: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            now = time.time_ns()
            stats = self.hosts[host]
            stats.count += 1
            stats.first_ns = stats.first_ns or now
            stats.last_ns = now
            found = _STAMP.search(body)
            if found is not None:
                produced = int(found.group(1))
                stats.produced_ns.append(produced)
                stats.latencies_ms.append((now - produced) / 1e6)
            if host == "slack":
                return web.Response(text="ok")
            if host == "discord":
                return web.Response(status=204)
            await self.never.wait()  # hang: until the sink stops
            return web.Response(status=504)

        return handle

    async def stats(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                name: {
                    "count": h.count,
                    "first_ns": h.first_ns,
                    "last_ns": h.last_ns,
                    "latencies_ms": h.latencies_ms.tolist(),
                    "produced_ns": h.produced_ns.tolist(),
                }
                for name, h in self.hosts.items()
            }
        )

    async def reset(self, _request: web.Request) -> web.Response:
        self.hosts.update({name: _Host() for name in HOSTS})
        return web.Response(text="ok")


async def _serve() -> None:
    sink = _Sink()
    runners: list[web.AppRunner] = []
    ports: dict[str, int] = {}
    for host in HOSTS:
        runner = web.AppRunner(sink.app(host), access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        ports[host] = sock.getsockname()[1]
        await web.SockSite(runner, sock, backlog=1024, shutdown_timeout=0.1).start()
        runners.append(runner)
    print(json.dumps({"ports": ports}), flush=True)
    loop = asyncio.get_running_loop()
    # The parent closes our stdin when it is done (or dies): then we stop.
    await loop.run_in_executor(None, sys.stdin.read)
    for runner in runners:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sink", description=__doc__)
    parser.add_argument("--uvloop", action="store_true", help="serve on uvloop (faster sink)")
    args = parser.parse_args(argv)
    factory = None
    if args.uvloop:
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve())
    return 0


class SinkProcess:
    """The sink as a child process: `with SinkProcess() as sink: sink.url("slack", "/c1")`."""

    def __init__(self, use_uvloop: bool = True) -> None:
        self._use_uvloop = use_uvloop
        self.proc: subprocess.Popen[str] | None = None
        self.ports: dict[str, int] = {}

    def __enter__(self) -> Self:
        cmd = [sys.executable, "-m", "bench.sink"] + (["--uvloop"] if self._use_uvloop else [])
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark sink did not start")
        self.ports = json.loads(line)["ports"]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def url(self, host: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[host]}{path}"

    def cpu_seconds(self) -> float:
        import psutil  # the bench extra; `make test` runs the smoke test without it

        assert self.proc is not None
        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user) + float(times.system)

    async def stats(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.url("slack", "/_stats")) as r,
        ):
            data: dict[str, Any] = await r.json()
            return data

    async def reset(self) -> None:
        async with aiohttp.ClientSession() as session, session.post(self.url("slack", "/_reset")):
            pass


if __name__ == "__main__":
    sys.exit(main())
