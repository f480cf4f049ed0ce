"""The compacted channels topic (ARCHITECTURE.md §4): read from the beginning, then followed.

A record's key is the channel id (UTF-8), its value the channel as JSON, and a null value (a
tombstone) deletes that channel. There is no consumer group: every replica reads the whole topic
for itself (`group_id=None`, every partition assigned explicitly, nothing committed).

Start-up: the end offsets are noted once, and the reader seeks every partition to its beginning.
It is *caught up* when its position in every partition has reached those offsets (an empty topic
is caught up at once). Until then records are only collected, latest per key; the directory's
topic layer is then replaced in one swap and `caught_up` is set. After that each fetched batch
is applied to the directory as one update.

A value that is not a valid channel of its key is logged (topic, partition, offset, problems;
never the value) and ignored: the channel keeps the version it had.

Failures: inside a fetch aiokafka reconnects by itself. Anything that ends a session (the broker
unreachable, the topic missing) is logged and retried with backoff, resuming from the positions
already reached; the directory keeps serving what it has. The topic is looked up with a
metadata request for all topics, so a missing topic is reported and waited for, never
auto-created (uncompacted) by the lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from consumer.channel import ChannelConfig
from consumer.config import Settings
from consumer.directory import ChannelDirectory, decode_channel_record
from consumer.errors import ChannelsError
from consumer.kafka.client import client_kwargs
from consumer.logs import get_logger
from consumer.redact import scrub_text
from consumer.urlpolicy import UrlPolicy

log = get_logger("consumer.kafka.table")

CLIENT_ID: Final = "transcodes-webhooks-channels"
#: Records asked for per fetch; one fetched batch is one directory update once caught up.
FETCH_MAX_RECORDS: Final = 1000
#: How long one fetch waits for new records.
FETCH_TIMEOUT_MS: Final = 500
#: How often the topic's partition count is compared with the assignment (it can only grow).
PARTITION_CHECK_S: Final = 30.0
#: Backoff between sessions after a failure.
RETRY_MIN_S: Final = 1.0
RETRY_MAX_S: Final = 30.0


class _TopicMissing(Exception):
    """The channels topic does not exist (yet)."""


class ChannelTopicReader:
    """Feeds the topic layer of a `ChannelDirectory` from the compacted channels topic."""

    def __init__(
        self,
        settings: Settings,
        directory: ChannelDirectory,
        policy: UrlPolicy | None = None,
        *,
        topic: str | None = None,
        fetch_max_records: int = FETCH_MAX_RECORDS,
    ) -> None:
        self.settings = settings
        self.directory = directory
        self.policy = policy or UrlPolicy()
        self.topic = topic or settings.webhook_channels_topic
        self.fetch_max_records = fetch_max_records
        #: Set once the topic has been read up to the end offsets seen at start.
        self.caught_up = asyncio.Event()
        self._targets: dict[int, int] | None = None  # partition -> end offset at start
        self._next: dict[int, int] = {}  # partition -> next offset to read
        self._pending: dict[str, ChannelConfig | None] = {}  # collected until caught up
        self._records = 0
        self._delay = RETRY_MIN_S
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start reading in the background; `caught_up` (and the directory's `ready`) follow."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="channels topic reader")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- sessions ------------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except _TopicMissing:
                log.warning(
                    "channels_topic_missing",
                    topic=self.topic,
                    retry_in_s=self._delay,
                    note="create it with cleanup.policy=compact, or set WEBHOOK_CHANNELS_TOPIC "
                    "to an empty value to read channels from the file only",
                )
            except (KafkaError, OSError) as exc:  # OSError covers TimeoutError too
                log.warning(
                    "channels_topic_error",
                    topic=self.topic,
                    error=type(exc).__name__,
                    detail=scrub_text(str(exc))[:300],
                    retry_in_s=self._delay,
                )
            await asyncio.sleep(self._delay)
            self._delay = min(self._delay * 2, RETRY_MAX_S)

    async def _session(self) -> None:
        partitions = await self._partitions()
        consumer = AIOKafkaConsumer(
            **client_kwargs(self.settings, client_id=CLIENT_ID),
            group_id=None,
            enable_auto_commit=False,
            # Only used when a remembered position no longer exists (topic recreated).
            auto_offset_reset="earliest",
        )
        try:
            await consumer.start()
            await self._assign(consumer, partitions)
            if self._targets is None:
                ends = await consumer.end_offsets(list(consumer.assignment()))
                self._targets = {tp.partition: offset for tp, offset in ends.items()}
            self._delay = RETRY_MIN_S
            loop = asyncio.get_running_loop()
            next_check = loop.time() + PARTITION_CHECK_S
            while True:
                self._check_caught_up()
                batch = await consumer.getmany(
                    timeout_ms=FETCH_TIMEOUT_MS, max_records=self.fetch_max_records
                )
                self._apply(batch)
                for tp in consumer.assignment():
                    self._next[tp.partition] = await consumer.position(tp)
                if loop.time() >= next_check:
                    next_check = loop.time() + PARTITION_CHECK_S
                    await self._grow(consumer)
        finally:
            await consumer.stop()

    async def _partitions(self) -> set[int]:
        admin = AIOKafkaAdminClient(**client_kwargs(self.settings, client_id=CLIENT_ID))
        try:
            await admin.start()
            # All topics: a metadata request naming the topic could auto-create it.
            topics: list[dict[str, Any]] = await admin.describe_topics()
        finally:
            await admin.close()
        for entry in topics:
            if entry["topic"] == self.topic and entry["error_code"] == 0 and entry["partitions"]:
                return {p["partition"] for p in entry["partitions"]}
        raise _TopicMissing

    async def _assign(self, consumer: AIOKafkaConsumer, partitions: Iterable[int]) -> None:
        """Assign every partition: known ones resume where they were, new ones start at 0."""
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        fresh = []
        for tp in tps:
            if tp.partition in self._next:
                consumer.seek(tp, self._next[tp.partition])
            else:
                fresh.append(tp)
        if fresh:
            await consumer.seek_to_beginning(*fresh)
            for tp in fresh:
                self._next[tp.partition] = await consumer.position(tp)

    async def _grow(self, consumer: AIOKafkaConsumer) -> None:
        found = consumer.partitions_for_topic(self.topic) or set()
        assigned = {tp.partition for tp in consumer.assignment()}
        if set(found) - assigned:
            log.info(
                "channels_topic_partitions_added",
                topic=self.topic,
                partitions=sorted(set(found) - assigned),
            )
            await self._assign(consumer, set(found) | assigned)

    # -- records -------------------------------------------------------------------------------
    def _apply(self, batch: Mapping[Any, list[Any]]) -> None:
        changes: dict[str, ChannelConfig | None] = {}
        for records in batch.values():
            for record in records:
                self._records += 1
                try:
                    channel_id, channel = decode_channel_record(
                        record.key, record.value, self.policy
                    )
                except ChannelsError as exc:
                    log.warning(
                        "channels_topic_record_invalid",
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        problems=exc.problems,
                        note="ignored: the channel keeps the version it had",
                    )
                    continue
                changes[channel_id] = channel
        if not changes:
            return
        if self.caught_up.is_set():
            self.directory.update_topic(changes)
        else:
            self._pending.update(changes)

    def _check_caught_up(self) -> None:
        if self.caught_up.is_set() or self._targets is None:
            return
        if any(self._next.get(p, 0) < end for p, end in self._targets.items()):
            return
        channels = {k: v for k, v in self._pending.items() if v is not None}
        self._pending.clear()
        log.info(
            "channels_topic_caught_up",
            topic=self.topic,
            records=self._records,
            channels=len(channels),
            partitions=len(self._targets),
        )
        self.directory.replace_topic(channels)
        self.caught_up.set()
