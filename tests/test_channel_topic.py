"""The compacted channels topic against a real broker: read from the beginning, caught up only at
the end offsets seen at start, then followed live; tombstones delete; invalid values are ignored;
a fresh reader rebuilds the same directory; a missing topic or a broker restart is survived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from structlog.testing import capture_logs

from consumer.config import Settings
from consumer.directory import ChannelDirectory
from consumer.kafka.table import ChannelTopicReader
from dev.localkafka import LocalKafka
from tests.conftest import TopicFactory
from tests.support.kafka import create_topics, unique

pytestmark = pytest.mark.kafka

SECRET = "SECRETPART0123456789"
COMPACT = {"cleanup.policy": "compact"}
CATCH_UP_S = 30.0


def value(id: str, project: str = "p1", **extra: object) -> bytes:
    url = f"https://hooks.slack.com/services/T0/B0/{SECRET}"
    return orjson.dumps({"id": id, "project_id": project, "type": "slack", "url": url, **extra})


async def publish(bootstrap: str, topic: str, records: Iterable[tuple[str, bytes | None]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, payload in records:
            await producer.send(topic, payload, key=key.encode())
        await producer.flush()
    finally:
        await producer.stop()


@asynccontextmanager
async def reading(
    bootstrap: str, topic: str, fetch_max_records: int = 1000
) -> AsyncIterator[tuple[ChannelTopicReader, ChannelDirectory]]:
    directory = ChannelDirectory(topic_expected=True)
    settings = Settings(kafka_bootstrap_servers=bootstrap, webhook_channels_topic=topic)
    reader = ChannelTopicReader(settings, directory, fetch_max_records=fetch_max_records)
    directory.attach(reader)
    await directory.start()
    try:
        yield reader, directory
    finally:
        await directory.stop()


def state(directory: ChannelDirectory) -> dict[str, tuple[str, bool]]:
    return {c.id: (c.project_id, c.active) for c in directory.snapshot.channels.values()}


async def eventually(check: Callable[[], bool], within_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_the_topic_is_read_from_the_beginning_then_followed_live(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = await new_topic("channels", partitions=3, **COMPACT)
    bad_host = value("d", url=f"https://evil.example/{SECRET}")
    await publish(
        kafka_bootstrap,
        topic,
        [
            ("a", value("a")),
            ("b", value("b")),
            ("a", value("a", project="p2")),  # an update: the latest value wins
            ("c", value("c")),
            ("c", None),  # a tombstone deletes c
            ("d", bad_host),  # invalid: ignored
            ("b", b"{not json"),  # invalid: b keeps the version it had
            ("x", value("y")),  # key and id differ: ignored
        ],
    )
    with capture_logs() as logs:
        async with reading(kafka_bootstrap, topic) as (reader, directory):
            assert not directory.ready
            await asyncio.wait_for(reader.caught_up.wait(), CATCH_UP_S)
            assert directory.ready
            assert state(directory) == {"a": ("p2", True), "b": ("p1", True)}

            await publish(
                kafka_bootstrap,
                topic,
                [("e", value("e")), ("a", None), ("b", value("b", active=False))],
            )
            await eventually(lambda: state(directory) == {"b": ("p1", False), "e": ("p1", True)})
            assert [c.id for c in directory.active_for("p1")] == ["e"]

    invalid = [e for e in logs if e["event"] == "channels_topic_record_invalid"]
    assert sorted((e["topic"], e["problems"][0].split(":")[0]) for e in invalid) == [
        (topic, "channel 'b'"),
        (topic, "channel 'd'"),
        (topic, "channel 'x'"),
    ]
    assert all({"partition", "offset"} <= e.keys() for e in invalid)
    assert SECRET not in repr(logs)
    assert "not json" not in repr(logs)

    # A restarted service (a fresh reader) rebuilds the same directory from the topic alone.
    async with reading(kafka_bootstrap, topic) as (reader, directory):
        await asyncio.wait_for(reader.caught_up.wait(), CATCH_UP_S)
        assert state(directory) == {"b": ("p1", False), "e": ("p1", True)}


async def test_an_empty_topic_is_caught_up_at_once(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = await new_topic("channels", partitions=2, **COMPACT)
    async with reading(kafka_bootstrap, topic) as (reader, directory):
        await asyncio.wait_for(reader.caught_up.wait(), CATCH_UP_S)
        assert directory.ready
        assert len(directory.snapshot) == 0


async def test_it_is_not_ready_until_every_record_present_at_start_is_applied(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = await new_topic("channels", partitions=3, **COMPACT)
    count = 300
    await publish(kafka_bootstrap, topic, [(f"c{i}", value(f"c{i}")) for i in range(count)])
    samples: list[tuple[bool, int]] = []
    # Ten records per fetch: the catch-up takes many fetches, and the sampler runs between them.
    async with reading(kafka_bootstrap, topic, fetch_max_records=10) as (reader, directory):
        while not reader.caught_up.is_set():
            samples.append((directory.ready, len(directory.snapshot)))
            await asyncio.sleep(0)
            assert len(samples) < 10_000_000
        samples.append((directory.ready, len(directory.snapshot)))
    # Before the catch-up nothing is served (a partial directory would drop alerts); after it,
    # everything is, in one swap.
    assert (False, 0) in samples
    assert set(samples) == {(False, 0), (True, count)}


async def test_a_missing_topic_is_reported_and_waited_for(kafka_bootstrap: str) -> None:
    topic = unique("channels-later")
    with capture_logs() as logs:
        async with reading(kafka_bootstrap, topic) as (reader, directory):
            await eventually(lambda: any(e["event"] == "channels_topic_missing" for e in logs))
            assert not directory.ready
            await create_topics(kafka_bootstrap, [topic], 1, COMPACT)
            await publish(kafka_bootstrap, topic, [("a", value("a"))])
            await asyncio.wait_for(reader.caught_up.wait(), CATCH_UP_S)
            await eventually(lambda: state(directory) == {"a": ("p1", True)})


async def test_the_reader_survives_a_broker_restart() -> None:
    broker = LocalKafka()  # its own broker: restarting the session's would disturb other tests
    await asyncio.to_thread(broker.start)
    try:
        topic = unique("channels")
        await create_topics(broker.bootstrap, [topic], 1, COMPACT)
        await publish(broker.bootstrap, topic, [("a", value("a"))])
        async with reading(broker.bootstrap, topic) as (reader, directory):
            await asyncio.wait_for(reader.caught_up.wait(), CATCH_UP_S)
            await asyncio.to_thread(broker.kill)
            await asyncio.sleep(1)
            await asyncio.to_thread(broker.restart)
            await publish(broker.bootstrap, topic, [("b", value("b")), ("a", None)])
            await eventually(lambda: state(directory) == {"b": ("p1", True)}, within_s=60)
            assert directory.ready
    finally:
        await asyncio.to_thread(broker.stop)
