"""Kafka helpers of the benchmarks: topics, a fast bulk producer, the committed-offset watcher.

The bulk producer batches (linger, 1 MiB batches) and never waits for a single record: it
writes the data set once, before anything is timed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Final

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from tests.support.kafka import create_topics

#: Partitions of the benchmark's audit topics (the session topic gets one, and stays empty).
PARTITIONS: Final = 3


async def make_topics(bootstrap: str, audit: str, session: str) -> None:
    await create_topics(bootstrap, [audit], PARTITIONS)
    await create_topics(bootstrap, [session], 1)


async def produce_bulk(
    bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes]]
) -> dict[int, int]:
    """Write (key, value) records round-robin over the partitions; returns the end offsets."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=20, max_batch_size=1024 * 1024
    )
    await producer.start()
    counts = dict.fromkeys(range(PARTITIONS), 0)
    try:
        for i, (key, value) in enumerate(records):
            partition = i % PARTITIONS
            await producer.send(topic, value, key=key, partition=partition)
            counts[partition] += 1
        await producer.flush()
    finally:
        await producer.stop()
    return counts


@dataclass
class CommitWatch:
    """The group's committed offsets on one topic as Kafka reports them, polled every `every_s`.

    `advances` holds the wall-clock times (`time.time()`) at which the committed total grew;
    `done` is set, and `reached_at` (monotonic) taken, once it reaches `target` records;
    `progress` holds (monotonic time, committed total) at each advance.
    """

    bootstrap: str
    group: str
    topic: str
    target: int | None = None
    every_s: float = 0.025
    total: int = 0
    reached_at: float | None = None
    advances: list[float] = field(default_factory=list)
    progress: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, total)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CommitWatch]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        task = asyncio.create_task(self._poll(admin))
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await admin.close()

    async def _poll(self, admin: AIOKafkaAdminClient) -> None:
        while True:
            try:
                offsets = await admin.list_consumer_group_offsets(self.group)
            except KafkaError:  # e.g. no coordinator yet for a brand-new group: ask again
                await asyncio.sleep(self.every_s)
                continue
            now = time.monotonic()
            total = sum(m.offset for tp, m in offsets.items() if tp.topic == self.topic)
            if total > self.total:
                self.total = total
                self.advances.append(time.time())
                self.progress.append((now, total))
            if self.target is not None and total >= self.target and self.reached_at is None:
                self.reached_at = now
                self.done.set()
            await asyncio.sleep(self.every_s)


def steady_rate(progress: list[tuple[float, int]], target: int) -> float | None:
    """Records committed per second between 10% and 90% of `target` (start and end excluded:
    the group join before, and the last commit interval after)."""
    low = next(((t, n) for t, n in progress if n >= target * 0.1), None)
    high = next(((t, n) for t, n in progress if n >= target * 0.9), None)
    if low is None or high is None or high[0] <= low[0]:
        return None
    return round((high[1] - low[1]) / (high[0] - low[0]), 1)
