"""The broker harness itself: a real broker that commits, resumes and cleans up after itself."""

from __future__ import annotations

import subprocess

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from dev.localkafka import LocalKafka
from tests.conftest import TopicFactory
from tests.support.broker import Broker
from tests.support.kafka import produce, unique

pytestmark = pytest.mark.kafka


async def _consume(bootstrap: str, topic: str, group: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: list[bytes] = []
    try:
        while len(seen) < count:
            batch = await consumer.getmany(timeout_ms=5000, max_records=count - len(seen))
            assert batch, "the broker returned nothing for 5 s"
            for records in batch.values():
                seen.extend(r.value for r in records)
        await consumer.commit()
    finally:
        await consumer.stop()
    return seen


async def test_a_committed_group_resumes_after_its_committed_offset(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = await new_topic("harness")
    group = unique("g")
    await produce(kafka_bootstrap, topic, [f"r{i}".encode() for i in range(10)])

    first = await _consume(kafka_bootstrap, topic, group, 6)
    assert first == [f"r{i}".encode() for i in range(6)]

    await produce(kafka_bootstrap, topic, [b"r10"])
    second = await _consume(kafka_bootstrap, topic, group, 5)
    assert second == [b"r6", b"r7", b"r8", b"r9", b"r10"]

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group)
    await consumer.start()
    try:
        assert await consumer.committed(TopicPartition(topic, 0)) == 11
    finally:
        await consumer.stop()


def _java_pids() -> set[str]:
    done = subprocess.run(
        ["pgrep", "-f", "kafka.Kafka"], capture_output=True, text=True, check=False
    )
    return set(done.stdout.split())


def test_a_local_broker_leaves_no_java_process_behind(kafka_broker: Broker) -> None:
    if kafka_broker.kind != "local-jar":
        pytest.skip(f"the session broker is {kafka_broker.kind}; this checks the jar broker only")
    before = _java_pids()
    local = LocalKafka()
    local.start()
    pid = str(local.process.pid) if local.process else ""
    assert pid in _java_pids() - before
    local.stop()
    assert pid not in _java_pids()
    assert not local.workdir.exists()
