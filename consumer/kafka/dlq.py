"""The dead-letter topic: poison records, byte for byte, with why they were refused.

Headers: `x-error` (the decode error: field and reason, never the value), `x-source-topic`,
`x-source-partition`, `x-source-offset`. A failed publish is logged and counted; it never stops
the consumer (the record is still committed: a chat alert pipeline must not stall on one record).
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from consumer import metrics
from consumer.config import Settings
from consumer.dispatch import Record
from consumer.kafka.client import client_kwargs
from consumer.logs import get_logger

log = get_logger("consumer.kafka.dlq")

#: How long one dead-letter publish may take before it is given up (it holds its record).
PUBLISH_TIMEOUT_S = 5.0


class DeadLetters:
    def __init__(self, settings: Settings, topic: str) -> None:
        self.topic = topic
        self._producer = AIOKafkaProducer(
            **client_kwargs(settings, client_id="transcodes-webhooks-dlq"),
            acks="all",
            max_request_size=2 * 1024 * 1024,
            request_timeout_ms=int(PUBLISH_TIMEOUT_S * 1000),
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, record: Record, error: str) -> bool:
        headers = [
            ("x-error", error.encode()[:1000]),
            ("x-source-topic", record.topic.encode()),
            ("x-source-partition", str(record.partition).encode()),
            ("x-source-offset", str(record.offset).encode()),
        ]
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                await self._producer.send_and_wait(
                    self.topic, record.value, key=record.key, headers=headers
                )
        except (KafkaError, TimeoutError) as exc:
            metrics.dlq_published.labels("failed").inc()
            log.error(
                "dlq_publish_failed",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                dlq_topic=self.topic,
                error=type(exc).__name__,
            )
            return False
        metrics.dlq_published.labels("ok").inc()
        return True
