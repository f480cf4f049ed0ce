"""Scenarios 3 and 4: latency at a steady rate, and isolation from an endpoint that hangs.

A producer process writes firing rows at a steady rate (500/s), each stamped with its produce
time; the service (this process) delivers each to two healthy channels on the sink; the sink
process takes the arrival time of each POST. Latency = arrival - produce time, per delivery.
Throughput = healthy deliveries / (last arrival - first produce time).

`raw_run` is the floor under the same load: a bare consumer loop that posts each record's value
to both hosts at once, with no decoding, rendering, logging or commits.

Isolation (`hang=True`) adds a third channel whose endpoint accepts and never answers: the
healthy channels' throughput and latency are compared with the run without it, and the group's
committed offset (as Kafka reports it) is watched for stalls: `max_commit_gap_s` is the longest
time, between the first and the last produced record, in which it did not move.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer

from bench.harness import bench_channels, running
from bench.kafka import CommitWatch, make_topics
from bench.sink import ROOT, SinkProcess
from bench.stats import longest_gap, percentile, rate, rounded
from consumer import metrics
from consumer.delivery import MAX_CONNECTIONS, MAX_CONNECTIONS_PER_HOST
from tests.support.kafka import unique

_HEALTHY = ("slack", "discord")
#: Time allowed, after the producer is done, for the last deliveries and commits.
_SETTLE_S = 15.0
#: `p99_settled_ms` counts only records produced this long after the first one (by then the
#: hanging channel's circuit has opened: 5 failures of 5 s each, run concurrently).
_SETTLED_AFTER_S = 10.0


def _teams_outcomes() -> dict[str, float]:
    out = {}
    for outcome in ("delivered", "timeout", "skipped", "failed"):
        value = metrics.REGISTRY.get_sample_value(
            "webhook_deliveries_total", {"channel_type": "teams", "outcome": outcome}
        )
        out[outcome] = value or 0.0
    return out


async def produce_steady(
    bootstrap: str, topic: str, per_s: float, seconds: float
) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.producer", "--bootstrap", bootstrap, "--topic", topic,
        "--rate", str(per_s), "--seconds", str(seconds),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the producer exited with {proc.returncode}")
    result: dict[str, Any] = orjson.loads(out.splitlines()[-1])
    return result


async def _settle(sink: SinkProcess, expected: int) -> None:
    """Wait (at most _SETTLE_S) until the healthy hosts got `expected` requests."""
    deadline = time.monotonic() + _SETTLE_S
    while time.monotonic() < deadline:
        stats = await sink.stats()
        if sum(stats[h]["count"] for h in _HEALTHY) >= expected:
            return
        await asyncio.sleep(0.2)


def _summary(stats: dict[str, Any], produced: dict[str, Any], per_s: float) -> dict[str, Any]:
    """Latency and throughput of the healthy hosts, from the sink's records."""
    latencies = [ms for h in _HEALTHY for ms in stats[h]["latencies_ms"]]
    settled_ns = int(produced["first_ns"]) + int(_SETTLED_AFTER_S * 1e9)
    settled = [
        ms
        for h in _HEALTHY
        for ms, t in zip(stats[h]["latencies_ms"], stats[h]["produced_ns"], strict=True)
        if t >= settled_ns
    ]
    healthy = sum(int(stats[h]["count"]) for h in _HEALTHY)
    last_ns = max(int(stats[h]["last_ns"]) for h in _HEALTHY)
    span_s = (last_ns - int(produced["first_ns"])) / 1e9
    return {
        "rate_offered": per_s,
        "records": int(produced["sent"]),
        "healthy_deliveries": healthy,
        "healthy_expected": int(produced["sent"]) * len(_HEALTHY),
        "throughput": round(rate(healthy, span_s), 1),
        "p50_ms": rounded(percentile(latencies, 50), 2),
        "p99_ms": rounded(percentile(latencies, 99), 2),
        "max_ms": rounded(max(latencies, default=0.0), 2),
        "p99_settled_ms": rounded(percentile(settled, 99), 2),
    }


async def run(
    sink: SinkProcess, bootstrap: str, per_s: float, seconds: float, *, hang: bool = False
) -> dict[str, Any]:
    audit, session = unique("bench-steady"), unique("bench-sessions")
    await make_topics(bootstrap, audit, session)
    channels = bench_channels(sink.url, with_hang=hang)
    await sink.reset()
    group = unique("bench-service")
    teams0 = _teams_outcomes()
    watch = CommitWatch(bootstrap, group, audit, every_s=0.1)
    async with watch.running(), running(bootstrap, audit, session, group, channels):
        cpu0 = time.process_time()
        produced = await produce_steady(bootstrap, audit, per_s, seconds)
        watch.target = int(produced["sent"])
        await _settle(sink, watch.target * len(_HEALTHY))
        await asyncio.wait_for(watch.done.wait(), _SETTLE_S)
        cpu = time.process_time() - cpu0
    stats = await sink.stats()
    first_s, last_s = produced["first_ns"] / 1e9, produced["last_ns"] / 1e9
    result = {
        "seconds": seconds,
        **_summary(stats, produced, per_s),
        "cpu_us_per_record": round(cpu / max(1, watch.target) * 1e6, 1),
        "committed_all": watch.reached_at is not None,
        "max_commit_gap_s": round(longest_gap(watch.advances, first_s, last_s), 2),
    }
    if hang:
        result["hang_requests"] = int(stats["hang"]["count"])
        result["hang_outcomes"] = {k: int(v - teams0[k]) for k, v in _teams_outcomes().items()}
    return result


async def raw_run(
    sink: SinkProcess, bootstrap: str, per_s: float, seconds: float
) -> dict[str, Any]:
    """The floor: a bare getmany loop that posts each record's value to both healthy hosts at
    once (no decoding, rendering, logging or commits), under the same steady load."""
    audit, session = unique("bench-steady"), unique("bench-sessions")
    await make_topics(bootstrap, audit, session)
    await sink.reset()
    urls = [c.url for c in bench_channels(sink.url)]
    consumer = AIOKafkaConsumer(
        audit,
        bootstrap_servers=bootstrap,
        group_id=unique("bench-raw"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=MAX_CONNECTIONS_PER_HOST)
    posts: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(url: str, body: bytes) -> None:
            async with http.post(url, data=body) as response:
                await response.read()

        async def consume() -> None:
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=500)
                for records in batches.values():
                    for record in records:
                        for url in urls:
                            task = asyncio.create_task(post(url, record.value))
                            posts.add(task)
                            task.add_done_callback(posts.discard)

        consuming = asyncio.create_task(consume())
        try:
            produced = await produce_steady(bootstrap, audit, per_s, seconds)
            await _settle(sink, int(produced["sent"]) * len(_HEALTHY))
        finally:
            consuming.cancel()
            await asyncio.gather(consuming, *posts, return_exceptions=True)
            await consumer.stop()
    return {"seconds": seconds, **_summary(await sink.stats(), produced, per_s)}
