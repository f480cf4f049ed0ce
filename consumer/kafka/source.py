"""The consumer of the event topics: one `AIOKafkaConsumer` in group `KAFKA_GROUP_ID`.

Auto-commit is off: the service commits offsets itself, only past records whose attempts have
ended (see `consumer.commit`). Rebalances are announced to the service through two async
callbacks, awaited inside aiokafka's rebalance (so a revoked partition's in-flight records are
drained and committed before the partition is handed over).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka import TopicPartition as KafkaTopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import OffsetAndMetadata

from consumer import metrics
from consumer.commit import TopicPartition
from consumer.config import Settings
from consumer.dispatch import Record
from consumer.kafka.client import client_kwargs
from consumer.logs import get_logger

log = get_logger("consumer.kafka.source")

PartitionsCallback = Callable[[list[TopicPartition]], Awaitable[None]]

#: Bytes fetched per partition per request: bounded prefetch (aiokafka buffers one fetch).
MAX_PARTITION_FETCH_BYTES = 1024 * 1024


def _ours(tps: Iterable[Any]) -> list[TopicPartition]:
    return sorted(TopicPartition(tp.topic, tp.partition) for tp in tps)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, on_assigned: PartitionsCallback, on_revoked: PartitionsCallback) -> None:
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked

    async def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        await self._on_revoked(_ours(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[Any]) -> None:
        await self._on_assigned(_ours(assigned))


class Source:
    def __init__(
        self,
        settings: Settings,
        topics: list[str],
        on_assigned: PartitionsCallback,
        on_revoked: PartitionsCallback,
    ) -> None:
        self._topics = topics
        self._listener = _Listener(on_assigned, on_revoked)
        self._consumer = AIOKafkaConsumer(
            **client_kwargs(settings, client_id="transcodes-webhooks"),
            group_id=settings.kafka_group_id,
            enable_auto_commit=False,
            auto_offset_reset=settings.webhook_start_from,
            max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
            # Every record's work ends within the delivery budget (5 s); the loop never waits
            # longer than that for room, so this is far above any gap between two polls.
            max_poll_interval_ms=300_000,
        )

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.subscribe(self._topics, listener=self._listener)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def fetch(self, max_records: int, timeout_ms: int) -> list[Record]:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        records: list[Record] = []
        for tp, items in batches.items():
            metrics.records_consumed.labels(tp.topic).inc(len(items))
            records.extend(
                Record(
                    topic=r.topic,
                    partition=r.partition,
                    offset=r.offset,
                    key=r.key,
                    value=r.value,
                    timestamp_ms=r.timestamp,
                    headers=tuple(r.headers or ()),
                )
                for r in items
            )
        return records

    async def commit(self, offsets: dict[TopicPartition, int]) -> bool:
        """Commit; False (logged, counted) when Kafka refused, e.g. during a rebalance."""
        if not offsets:
            return True
        try:
            await self._consumer.commit(
                {
                    KafkaTopicPartition(tp.topic, tp.partition): OffsetAndMetadata(offset, "")
                    for tp, offset in offsets.items()
                }
            )
        except CommitFailedError as exc:
            metrics.commits.labels("failed").inc()
            log.warning("commit_failed", reason="rebalance", error=type(exc).__name__)
            return False
        except KafkaError as exc:
            metrics.commits.labels("failed").inc()
            log.warning("commit_failed", reason="kafka", error=type(exc).__name__)
            return False
        metrics.commits.labels("ok").inc()
        return True
