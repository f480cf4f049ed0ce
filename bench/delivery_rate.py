"""Micro-measurement of the delivery engine against a local sink (not a test, no assertions).

1. POST rate: `Delivery.deliver` (one channel per call, pacing off, JSON logs at info written to
   /dev/null) vs raw aiohttp posting the same rendered bodies, with the same number of
   concurrent workers and the same connection limits, against the scripted sink served from a
   separate process (so the client is what is measured).
2. Wall time of a 5-channel fan-out where one endpoint hangs (default 5 s budget, pacing on).

    .venv/bin/python -m bench.delivery_rate [--posts 4000] [--concurrency 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

from consumer.channel import ChannelConfig, ChannelType
from consumer.channels import CHANNELS
from consumer.channels.base import Channel
from consumer.delivery import (
    MAX_CONNECTIONS,
    MAX_CONNECTIONS_PER_HOST,
    Delivery,
    DeliveryConfig,
)
from consumer.logs import configure_logging
from consumer.urlpolicy import UrlPolicy
from tests.support.fake_channel import FakeChannel, sample_notification
from tests.support.sink import Sink, hang, ok

INSECURE = UrlPolicy(allow_insecure=True)
NOTE = sample_notification()


def _serve(conn: Connection) -> None:
    async def main() -> None:
        async with Sink(default=ok()) as sink:
            sink.script("/hang", hang())
            conn.send(sink.base_url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told

    asyncio.run(main())


def registry() -> Mapping[ChannelType, Channel]:
    if len(CHANNELS) == len(ChannelType):
        return CHANNELS
    return {t: FakeChannel(t) for t in ChannelType}


def slack_channel(base_url: str, path: str = "/services/T0/B0/bench") -> ChannelConfig:
    return ChannelConfig(id="bench", project_id="p", type=ChannelType.SLACK, url=base_url + path)


Rate = tuple[float, float]  # POST/s (wall clock), client CPU microseconds per POST


async def run_workers(total: int, concurrency: int, post: Callable[[], Awaitable[bool]]) -> Rate:
    remaining = total
    failures = 0

    async def worker() -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            if not await post():
                failures += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if failures:
        print(f"  ({failures} posts did not succeed)", file=sys.stderr)
    return total / elapsed, cpu / total * 1e6


async def engine_rate(base_url: str, total: int, concurrency: int) -> Rate:
    channels = [slack_channel(base_url)]
    config = DeliveryConfig(pacing=False, policy=INSECURE)
    async with Delivery(config, registry=registry()) as delivery:

        async def post() -> bool:
            (result,) = await delivery.deliver(NOTE, channels, topic="bench")
            return result.outcome == "delivered"

        await run_workers(min(200, total), concurrency, post)  # warm the pool
        return await run_workers(total, concurrency, post)


async def raw_rate(base_url: str, total: int, concurrency: int) -> Rate:
    channel = slack_channel(base_url)
    request = registry()[ChannelType.SLACK].render(NOTE, channel)
    body = request.body_bytes()
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=MAX_CONNECTIONS_PER_HOST)
    timeout = aiohttp.ClientTimeout(total=5.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def post() -> bool:
            async with session.post(request.url, data=body, headers=request.headers) as resp:
                await resp.read()
                return resp.status < 300

        await run_workers(min(200, total), concurrency, post)
        return await run_workers(total, concurrency, post)


async def fan_out_seconds(base_url: str) -> tuple[float, list[str]]:
    channels = [
        ChannelConfig(
            id=t.value,
            project_id="p",
            type=t,
            url=base_url + ("/hang" if t is ChannelType.TEAMS else f"/{t.value}"),
            chat_id="-100123" if t is ChannelType.TELEGRAM else None,
        )
        for t in ChannelType
    ]
    async with Delivery(DeliveryConfig(policy=INSECURE), registry=registry()) as delivery:
        started = time.perf_counter()
        results = await delivery.deliver(NOTE, channels)
        elapsed = time.perf_counter() - started
    return elapsed, [f"{r.channel_id}={r.outcome.value} ({r.duration_ms:.0f} ms)" for r in results]


async def main(args: argparse.Namespace) -> None:
    configure_logging("info", "json", Path("/dev/null").open("w"))  # noqa: SIM115, ASYNC230  # lives as long as the process
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(child,), daemon=True)
    server.start()
    base_url = parent.recv()
    try:
        renderers = "real channel modules" if registry() is CHANNELS else "test-only renderer"
        print(f"sink {base_url} (separate process), {renderers}")
        print(f"{args.posts} POSTs per round, {args.concurrency} concurrent, {args.rounds} rounds")
        raw, engine = [], []
        for _ in range(args.rounds):
            raw.append(await raw_rate(base_url, args.posts, args.concurrency))
            engine.append(await engine_rate(base_url, args.posts, args.concurrency))
        raw_median = statistics.median(r for r, _ in raw)
        engine_median = statistics.median(r for r, _ in engine)
        print(f"raw aiohttp      : {raw_median:6.0f} POST/s  {_cpu(raw)}  (rounds: {_list(raw)})")
        print(
            f"Delivery.deliver : {engine_median:6.0f} POST/s  {_cpu(engine)}  "
            f"(rounds: {_list(engine)})"
        )
        print(f"engine / raw     : {engine_median / raw_median:6.2f}")
        if not args.skip_fan_out:
            seconds, outcomes = await fan_out_seconds(base_url)
            print(f"5-channel fan-out, one hanging: {seconds:.2f} s: " + ", ".join(outcomes))
    finally:
        parent.send("stop")
        server.join(timeout=5)


def _list(rates: list[Rate]) -> str:
    return ", ".join(f"{r:.0f}" for r, _ in rates)


def _cpu(rates: list[Rate]) -> str:
    return f"{statistics.median(c for _, c in rates):4.0f} µs client CPU per POST"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-fan-out", action="store_true")
    asyncio.run(main(parser.parse_args()))
