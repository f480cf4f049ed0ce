"""One record's way through the service: decode -> rules -> route -> render + deliver.

Two halves, so that the common case costs no task: `prepare` (synchronous, pure but for logs and
counters) decodes, decides and routes, and says what, if anything, is left to do; `run`
(asynchronous) does it: post to the channels, or publish a poison record to the dead-letter
topic. Most audit rows do not notify: they end in `prepare`.

Nothing a record can contain makes either half raise: a poison record is logged once (topic,
partition, offset, the error; never the value), counted, sent to the dead-letter topic when one
is configured, and then counts as done like any other record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from consumer import metrics
from consumer.channel import ChannelConfig
from consumer.decode import TopicSchema, decode
from consumer.delivery import Delivery
from consumer.dispatch import Record
from consumer.errors import DecodeError
from consumer.kafka.dlq import DeadLetters
from consumer.logs import get_logger, log_level_enabled
from consumer.message import build_notification
from consumer.notification import Notification
from consumer.route import ChannelLookup, route
from consumer.rules import decide

log = get_logger("consumer.pipeline")


@dataclass(frozen=True, slots=True)
class Delivering:
    """A fired notification and the channels it goes to."""

    notification: Notification
    channels: Sequence[ChannelConfig]
    project_id: str


@dataclass(frozen=True, slots=True)
class DeadLettering:
    """A poison record to publish to the dead-letter topic, with why it was refused."""

    error: str


Job = Delivering | DeadLettering


class Pipeline:
    def __init__(
        self,
        schemas: Mapping[str, TopicSchema],
        channels: ChannelLookup,
        delivery: Delivery,
        dead_letters: DeadLetters | None = None,
    ) -> None:
        self._schemas = schemas
        self._channels = channels
        self._delivery = delivery
        self._dead_letters = dead_letters
        # One counter child per topic, looked up once: `labels()` on every record showed up in
        # the filter-path profile (docs/BENCHMARKS.md).
        self._decoded = {topic: metrics.records_decoded.labels(topic) for topic in schemas}
        # A skipped event logs at debug only; asking structlog per record cost a sixth of the
        # filter path, so the level is read once.
        self._debug = log_level_enabled("debug")

    def prepare(self, record: Record) -> Job | None:
        """Decode, decide and route; None when nothing is left to do for this record."""
        schema = self._schemas.get(record.topic)
        if schema is None:  # subscribed topics are exactly the schema keys; defensive only
            return self._poison(record, f"{record.topic}: no event contract for this topic")
        try:
            event = decode(schema, record.value)
        except DecodeError as exc:
            return self._poison(record, str(exc))
        self._decoded[record.topic].inc()

        decision = decide(event)
        if not decision.fires or decision.kind is None:
            if self._debug:
                log.debug(
                    "event_skipped",
                    project_id=event.project_id,
                    reason=decision.reason,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                )
            return None
        where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        metrics.notifications_fired.labels(decision.kind).inc()
        notification = build_notification(event)
        channels = route(event.project_id, self._channels)
        log.info(
            "notification_fired",
            kind=decision.kind,
            reason=decision.reason,
            project_id=event.project_id,
            event_id=notification.event_id,
            channels=len(channels),
            **where,
        )
        if not channels:
            metrics.notifications_unrouted.labels(decision.kind).inc()
            return None
        return Delivering(notification, channels, event.project_id)

    async def run(self, record: Record, job: Job) -> None:
        """Post to the channels, or publish to the dead-letter topic."""
        if isinstance(job, Delivering):
            await self._delivery.deliver(
                job.notification,
                job.channels,
                project_id=job.project_id,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
            )
        elif self._dead_letters is not None:
            await self._dead_letters.publish(record, job.error)

    def _poison(self, record: Record, error: str) -> DeadLettering | None:
        metrics.records_poison.labels(record.topic).inc()
        log.warning(
            "poison_record",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error,
            size=len(record.value) if record.value is not None else 0,
            dlq=self._dead_letters.topic if self._dead_letters else None,
        )
        return DeadLettering(error) if self._dead_letters is not None else None
