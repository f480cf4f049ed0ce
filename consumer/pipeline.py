"""One record's way through the service: decode -> rules -> route -> render + deliver.

`Pipeline.handle` never raises for anything a record can contain: a poison record is logged once
(topic, partition, offset, the error; never the value), counted, sent to the dead-letter topic when
one is configured, and then counts as done like any other record.
"""

from __future__ import annotations

from collections.abc import Mapping

from consumer import metrics
from consumer.decode import TopicSchema, decode
from consumer.delivery import Delivery
from consumer.dispatch import Record
from consumer.errors import DecodeError
from consumer.kafka.dlq import DeadLetters
from consumer.logs import get_logger
from consumer.message import build_notification
from consumer.route import ChannelLookup, route
from consumer.rules import decide

log = get_logger("consumer.pipeline")


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

    async def handle(self, record: Record) -> None:
        where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        schema = self._schemas.get(record.topic)
        if schema is None:  # subscribed topics are exactly the schema keys; defensive only
            await self._poison(record, f"{record.topic}: no event contract for this topic")
            return
        try:
            event = decode(schema, record.value)
        except DecodeError as exc:
            await self._poison(record, str(exc))
            return
        self._decoded[record.topic].inc()

        decision = decide(event)
        if not decision.fires or decision.kind is None:
            log.debug("event_skipped", project_id=event.project_id, reason=decision.reason, **where)
            return
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
            return
        await self._delivery.deliver(notification, channels, project_id=event.project_id, **where)

    async def _poison(self, record: Record, error: str) -> None:
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
        if self._dead_letters is not None:
            await self._dead_letters.publish(record, error)
