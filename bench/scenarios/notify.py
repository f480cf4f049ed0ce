"""Scenario 2, the notify path: firing audit rows, each to two channels on the local sink.

Subject: the service, deliveries/s from the moment it has its partitions until its group's
committed offsets cover every record (every delivery has ended by then).
Ceiling: raw aiohttp POSTs of the very same bodies (rendered beforehand by the service's own
renderers) with the same concurrency: as many records in flight as the service allows
(`WEBHOOK_MAX_IN_FLIGHT`), both channels of a record at once, and the same connection pool
limits as `consumer.delivery`.
Naive: the common first attempt: `async for` over the consumer, decode, decide, render, await
each POST in turn, then commit that record, then the next one.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer

from bench import events
from bench.harness import MAX_IN_FLIGHT, PROJECT, bench_channels, running
from bench.kafka import CommitWatch, make_topics, produce_bulk, steady_rate
from bench.sink import SinkProcess
from bench.stats import rate
from consumer import metrics
from consumer.channel import ChannelConfig
from consumer.channels import CHANNELS
from consumer.channels.base import OutboundRequest
from consumer.decode import decode
from consumer.delivery import MAX_CONNECTIONS, MAX_CONNECTIONS_PER_HOST
from consumer.message import build_notification
from consumer.rules import decide
from tests.support.kafka import unique

_HEALTHY = ("slack", "discord")


@dataclass(frozen=True)
class Dataset:
    audit: str
    session: str
    values: list[bytes]

    @property
    def records(self) -> int:
        return len(self.values)


async def prepare(bootstrap: str, records: int, seed: int = 2) -> Dataset:
    audit, session = unique("bench-notify"), unique("bench-sessions")
    await make_topics(bootstrap, audit, session)
    rng = random.Random(seed)
    rows = [events.firing_row(rng, i, PROJECT) for i in range(records)]
    values = [events.encode(row) for row in rows]
    await produce_bulk(
        bootstrap, audit, ((events.key_of(r), v) for r, v in zip(rows, values, strict=True))
    )
    return Dataset(audit, session, values)


def render_all(value: bytes, channels: Sequence[ChannelConfig]) -> list[OutboundRequest]:
    """What the service would send for one record: decode, build the message, render."""
    notification = build_notification(decode("audit-log", value))
    return [CHANNELS[c.type].render(notification, c) for c in channels]


def _delivered() -> float:
    return sum(
        metrics.REGISTRY.get_sample_value(
            "webhook_deliveries_total", {"channel_type": t, "outcome": "delivered"}
        )
        or 0.0
        for t in ("slack", "discord")
    )


def _measured(deliveries: int, seconds: float, cpu_s: float) -> dict[str, Any]:
    return {
        "deliveries": deliveries,
        "seconds": round(seconds, 3),
        "rate": round(rate(deliveries, seconds), 1),
        "cpu_us_per_delivery": round(cpu_s / deliveries * 1e6, 2) if deliveries else None,
    }


async def _sink_count(sink: SinkProcess) -> int:
    stats = await sink.stats()
    return sum(int(stats[h]["count"]) for h in _HEALTHY)


async def raw_aiohttp(sink: SinkProcess, data: Dataset) -> dict[str, Any]:
    channels = bench_channels(sink.url)
    prepared = [
        [(r.url, r.body_bytes(), dict(r.headers)) for r in render_all(v, channels)]
        for v in data.values
    ]
    await sink.reset()
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=MAX_CONNECTIONS_PER_HOST)
    failures = 0
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(url: str, body: bytes, headers: dict[str, str]) -> None:
            nonlocal failures
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                failures += response.status >= 300

        async def worker(todo: Iterator[list[tuple[str, bytes, dict[str, str]]]]) -> None:
            for requests in todo:
                await asyncio.gather(*(post(*r) for r in requests))

        todo = iter(prepared)
        cpu0, t0 = time.process_time(), time.monotonic()
        await asyncio.gather(*(worker(todo) for _ in range(MAX_IN_FLIGHT)))
        seconds, cpu = time.monotonic() - t0, time.process_time() - cpu0
    if failures:
        raise AssertionError(f"{failures} raw POSTs failed")
    deliveries = sum(len(r) for r in prepared)
    if await _sink_count(sink) != deliveries:
        raise AssertionError("the sink did not see every raw POST")
    return _measured(deliveries, seconds, cpu)


async def service_path(sink: SinkProcess, bootstrap: str, data: Dataset) -> dict[str, Any]:
    channels = bench_channels(sink.url)
    await sink.reset()
    group = unique("bench-service")
    watch = CommitWatch(bootstrap, group, data.audit, target=data.records)
    delivered0 = _delivered()
    async with watch.running():
        cpu0 = time.process_time()
        async with running(bootstrap, data.audit, data.session, group, channels) as svc:
            await asyncio.wait_for(watch.done.wait(), 300)
            cpu = time.process_time() - cpu0
    assert watch.reached_at is not None
    deliveries = data.records * len(channels)
    delivered = int(_delivered() - delivered0)
    if delivered != deliveries or await _sink_count(sink) != deliveries:
        raise AssertionError(f"the service delivered {delivered} of {deliveries}")
    measured = _measured(deliveries, watch.reached_at - svc.assigned_at, cpu)
    per_record = steady_rate(watch.progress, data.records)
    steady = None if per_record is None else round(per_record * len(channels), 1)
    return {**measured, "rate_steady": steady}


async def naive(
    sink: SinkProcess, bootstrap: str, data: Dataset, max_records: int, max_seconds: float
) -> dict[str, Any]:
    """The sequential consumer, over at most `max_records` records or `max_seconds`."""
    channels = bench_channels(sink.url)
    await sink.reset()
    consumer = AIOKafkaConsumer(
        data.audit,
        bootstrap_servers=bootstrap,
        group_id=unique("bench-naive"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    deliveries = records = 0
    try:
        async with aiohttp.ClientSession() as session:
            t0: float | None = None
            cpu0 = time.process_time()
            async for message in consumer:
                t0 = t0 or time.monotonic()
                event = decode("audit-log", message.value)
                if decide(event).fires:
                    notification = build_notification(event)
                    for channel in channels:
                        request = CHANNELS[channel.type].render(notification, channel)
                        async with session.post(
                            request.url, data=request.body_bytes(), headers=request.headers
                        ) as response:
                            await response.read()
                        deliveries += 1
                await consumer.commit()
                records += 1
                if records >= max_records or time.monotonic() - t0 >= max_seconds:
                    break
            seconds, cpu = time.monotonic() - (t0 or 0), time.process_time() - cpu0
    finally:
        await consumer.stop()
    return {**_measured(deliveries, seconds, cpu), "records": records}
