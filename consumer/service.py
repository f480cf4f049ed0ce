"""The running service: wires source, dispatcher, pipeline, delivery, commits and probes.

consume loop ──fetch (only when there is room)──> dispatcher ──> pipeline.handle (per record)
commit loop  ──every COMMIT_INTERVAL_S──> tracker.to_commit() ──> Kafka
rebalance    ──revoked: drain those partitions (≤ budget), commit, hand over
shutdown     ──stop fetching, drain (≤ budget + 1 s), commit, close everything
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Protocol

from consumer import metrics
from consumer.commit import OffsetTracker, TopicPartition
from consumer.config import Settings
from consumer.decode import TopicSchema
from consumer.delivery import Delivery, DeliveryConfig
from consumer.dispatch import Dispatcher, Record
from consumer.health import HealthServer
from consumer.kafka.dlq import DeadLetters
from consumer.kafka.source import Source
from consumer.logs import get_logger
from consumer.pipeline import Job, Pipeline
from consumer.route import ChannelLookup

log = get_logger("consumer.service")

#: How often finished records' offsets are committed (also on revoke and at shutdown) ...
COMMIT_INTERVAL_S = 1.0
#: ... or sooner, once this many records (times WEBHOOK_MAX_IN_FLIGHT) that posted or
#: dead-lettered something finished since the last commit: the chat messages a crash can replay
#: stay about the size of the in-flight bound. (Replaying records that notify nobody costs
#: nothing visible, so they count for less: see COMMIT_EVERY_QUIET_RECORDS.)
COMMIT_EVERY_IN_FLIGHTS = 1
#: ... or once this many records that notified nobody finished (keeps a busy audit log's
#: committed offset close to where the consumer is, at a few commits per second).
COMMIT_EVERY_QUIET_RECORDS = 5000
#: Records asked for per fetch at most (the in-flight room bounds it further).
FETCH_MAX_RECORDS = 500
#: How long one fetch waits for records; also how quickly the loop notices a stop.
FETCH_TIMEOUT_MS = 200
#: Extra time, past the delivery budget, that a drain waits for in-flight records.
DRAIN_SLACK_S = 1.0


class ChannelSource(ChannelLookup, Protocol):
    """The channel directory as the service runs it."""

    @property
    def ready(self) -> bool: ...

    async def wait_ready(self) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Service:
    def __init__(self, settings: Settings, directory: ChannelSource) -> None:
        self.settings = settings
        self.directory = directory
        self.tracker = OffsetTracker()
        self.schemas: dict[str, TopicSchema] = {
            settings.webhook_audit_topic: "audit-log",
            settings.webhook_session_topic: "hosted-auth-sessions",
        }
        self.drain_timeout_s = settings.webhook_timeout_s + DRAIN_SLACK_S
        self.health: HealthServer | None = None
        self._joined = False
        self._consuming = False
        self._commit_lock = asyncio.Lock()
        self._commit_soon = asyncio.Event()
        self._finished_since_commit = 0
        self._quiet_since_commit = 0
        self._commit_every = max(1, settings.webhook_max_in_flight * COMMIT_EVERY_IN_FLIGHTS)
        self._lag_labels: set[TopicPartition] = set()
        self._source: Source | None = None
        self._dispatcher: Dispatcher[Job] | None = None
        self._pipeline: Pipeline | None = None

    # -- probes -------------------------------------------------------------------------------
    def alive(self) -> bool:
        return self._consuming

    def readiness(self) -> dict[str, bool]:
        return {"joined_group": self._joined, "channels_loaded": self.directory.ready}

    # -- lifecycle ----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        self.health = HealthServer(s.http_port, self.alive, self.readiness)
        await self.health.start()
        log.info(
            "starting",
            topics=list(self.schemas),
            group=s.kafka_group_id,
            http_port=self.health.port,
        )
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(self.health.stop)
            await self.directory.start()
            stack.push_async_callback(self.directory.stop)
            # Consume no event before the channels topic is read to its end: an alert for a
            # channel that only the topic knows would otherwise go nowhere.
            await _first(self.directory.wait_ready(), stop.wait())
            if stop.is_set():
                return
            delivery = Delivery(DeliveryConfig.from_settings(s))
            await delivery.start()
            stack.push_async_callback(delivery.close)
            dead_letters = None
            if s.webhook_dlq_topic:
                dead_letters = DeadLetters(s, s.webhook_dlq_topic)
                await dead_letters.start()
                stack.push_async_callback(dead_letters.stop)
            pipeline = Pipeline(self.schemas, self.directory, delivery, dead_letters)
            self._pipeline = pipeline
            self._dispatcher = Dispatcher[Job](self._handle, self.tracker, s.webhook_max_in_flight)
            self._source = Source(s, list(self.schemas), self._assigned, self._revoked)
            await self._source.start()
            stack.push_async_callback(self._source.stop)
            committer = asyncio.create_task(self._commit_loop(), name="commit loop")
            self._consuming = True
            try:
                await self._consume(self._source, pipeline, self._dispatcher, stop)
            finally:
                self._consuming = False
                committer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await committer
                await self._shutdown(self._dispatcher)

    async def _consume(
        self, source: Source, pipeline: Pipeline, dispatcher: Dispatcher[Job], stop: asyncio.Event
    ) -> None:
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                if dispatcher.room == 0:  # back-pressure: fetch nothing until a record ends
                    await _first(dispatcher.wait_for_room(), stopping)
                    continue
                records = await source.fetch(
                    max_records=min(dispatcher.room, FETCH_MAX_RECORDS),
                    timeout_ms=FETCH_TIMEOUT_MS,
                )
                for record in records:
                    job = pipeline.prepare(record)  # decode, decide, route: no task needed yet
                    accepted = (
                        dispatcher.done(record) if job is None else dispatcher.submit(record, job)
                    )
                    if not accepted:  # the fetch position moved back: attempted already
                        log.warning(
                            "record_seen_before",
                            topic=record.topic,
                            partition=record.partition,
                            offset=record.offset,
                        )
                    elif job is None:
                        self._quiet_since_commit += 1
                        if self._quiet_since_commit >= COMMIT_EVERY_QUIET_RECORDS:
                            self._commit_soon.set()
        finally:
            stopping.cancel()

    async def _shutdown(self, dispatcher: Dispatcher[Job]) -> None:
        t0 = time.monotonic()
        in_flight = dispatcher.in_flight
        drained = await dispatcher.drain(within_s=self.drain_timeout_s)
        await self._commit()
        if not drained:
            await dispatcher.cancel_all()
        log.info(
            "stopped",
            drained=drained,
            in_flight_at_stop=in_flight,
            drain_ms=round((time.monotonic() - t0) * 1000),
        )

    async def _handle(self, record: Record, job: Job) -> None:
        try:
            if self._pipeline is not None:
                await self._pipeline.run(record, job)
        finally:
            self._finished()

    def _finished(self) -> None:
        self._finished_since_commit += 1
        if self._finished_since_commit >= self._commit_every:
            self._commit_soon.set()

    # -- commits ------------------------------------------------------------------------------
    async def _commit_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(COMMIT_INTERVAL_S):
                    await self._commit_soon.wait()
            self._commit_soon.clear()
            self._finished_since_commit = 0
            self._quiet_since_commit = 0
            await self._commit()

    async def _commit(self, tps: list[TopicPartition] | None = None) -> None:
        if self._source is None:
            return
        async with self._commit_lock:
            offsets = self.tracker.to_commit(tps)
            if offsets and await self._source.commit(offsets):
                self.tracker.committed(offsets)
                log.debug(
                    "commit", offsets={f"{tp.topic}/{tp.partition}": o for tp, o in offsets.items()}
                )
            for tp, pending in self.tracker.lag().items():
                metrics.commit_lag.labels(tp.topic, str(tp.partition)).set(pending)
                self._lag_labels.add(tp)

    # -- rebalance ----------------------------------------------------------------------------
    async def _assigned(self, tps: list[TopicPartition]) -> None:
        self.tracker.assign(tps)
        self._joined = True
        log.info(
            "rebalance", change="assigned", partitions=[f"{t.topic}/{t.partition}" for t in tps]
        )

    async def _revoked(self, tps: list[TopicPartition]) -> None:
        if not tps or self._dispatcher is None:
            return
        drained = await self._dispatcher.drain(tps, within_s=self.drain_timeout_s)
        try:
            async with asyncio.timeout(self.drain_timeout_s):
                await self._commit(tps)
        except TimeoutError:
            log.warning("commit_failed", reason="revoke commit timed out")
        self.tracker.revoke(tps)
        for tp in tps:
            if tp in self._lag_labels:
                self._lag_labels.discard(tp)
                metrics.commit_lag.remove(tp.topic, str(tp.partition))
        log.info(
            "rebalance",
            change="revoked",
            drained=drained,
            partitions=[f"{t.topic}/{t.partition}" for t in tps],
        )


async def _first(*aws: Awaitable[object]) -> None:
    """Wait until the first of these finishes; cancel the others that were created here."""
    tasks = [a if isinstance(a, asyncio.Task) else asyncio.ensure_future(a) for a in aws]
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task, original in zip(tasks, aws, strict=True):
        if task in pending and task is not original:
            task.cancel()
