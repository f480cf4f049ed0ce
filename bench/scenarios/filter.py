"""Scenario 1, the filter path: audit rows that do not fire, consumed -> decoded -> decided.

Subject: the service, records/s from the moment it has its partitions until its group's
committed offsets (as Kafka reports them) reach the end of the topic. This includes the last
commit interval (up to 1 s); `rate_steady` is the slope of the committed offsets between 10% and
90% of the records, without it.
Ceiling: a raw aiokafka `getmany` loop over the same records with a fresh group, from its
partition assignment until it has read the last record (it does nothing with them).
Reference: the same loop that also decodes and decides each record in line (the service's own
`decode` and `decide`, no tasks, no commits): the least any validating consumer does.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener

from bench import events
from bench.harness import PROJECT, running
from bench.kafka import CommitWatch, make_topics, produce_bulk, steady_rate
from bench.stats import rate
from consumer.decode import decode
from consumer.kafka.source import MAX_PARTITION_FETCH_BYTES
from consumer.rules import decide
from consumer.service import FETCH_MAX_RECORDS, FETCH_TIMEOUT_MS
from tests.support.kafka import unique


@dataclass(frozen=True)
class Dataset:
    audit: str
    session: str
    records: int
    bytes: int


async def prepare(bootstrap: str, records: int, seed: int = 1) -> Dataset:
    audit, session = unique("bench-filter"), unique("bench-sessions")
    await make_topics(bootstrap, audit, session)
    rng = random.Random(seed)
    size = 0

    def rows() -> Any:
        nonlocal size
        for i in range(records):
            row = events.silent_row(rng, i, PROJECT)
            value = events.encode(row)
            size += len(value)
            yield events.key_of(row), value

    await produce_bulk(bootstrap, audit, rows())
    return Dataset(audit, session, records, size)


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self) -> None:
        self.at: float | None = None

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.at = self.at or time.monotonic()


def _measured(count: int, seconds: float, cpu_s: float) -> dict[str, Any]:
    return {
        "records": count,
        "seconds": round(seconds, 3),
        "rate": round(rate(count, seconds), 1),
        "cpu_us_per_record": round(cpu_s / count * 1e6, 2) if count else None,
    }


async def raw_getmany(bootstrap: str, data: Dataset, *, decoding: bool = False) -> dict[str, Any]:
    """The ceiling: read every record with a plain getmany loop (the service's fetch sizes);
    with `decoding`, also decode and decide each one in line (the reference)."""
    listener = _Assigned()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=unique("bench-raw"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
    )
    await consumer.start()
    try:
        consumer.subscribe([data.audit, data.session], listener=listener)
        count = 0
        cpu0 = time.process_time()
        while count < data.records:
            batches = await consumer.getmany(
                timeout_ms=FETCH_TIMEOUT_MS, max_records=FETCH_MAX_RECORDS
            )
            for items in batches.values():
                count += len(items)
                if decoding:
                    for r in items:
                        if decide(decode("audit-log", r.value)).fires:
                            raise AssertionError("a filter-path row fired")
        ended = time.monotonic()
        cpu = time.process_time() - cpu0
    finally:
        await consumer.stop()
    assert listener.at is not None
    return _measured(count, ended - listener.at, cpu)


async def service_path(bootstrap: str, data: Dataset, timeout_s: float = 300) -> dict[str, Any]:
    """The service: until the group's committed offsets cover every record."""
    group = unique("bench-service")
    watch = CommitWatch(bootstrap, group, data.audit, target=data.records)
    async with watch.running():
        cpu0 = time.process_time()
        async with running(bootstrap, data.audit, data.session, group, channels=[]) as svc:
            await asyncio.wait_for(watch.done.wait(), timeout_s)
            cpu = time.process_time() - cpu0
    assert watch.reached_at is not None
    measured = _measured(data.records, watch.reached_at - svc.assigned_at, cpu)
    return {**measured, "rate_steady": steady_rate(watch.progress, data.records)}
