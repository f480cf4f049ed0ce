"""Shared fixtures. The Kafka broker is real: tests/support/broker.py says where it comes from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest

from tests.support.broker import Broker, broker
from tests.support.kafka import create_topics, unique


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[Broker]:
    """One real broker for the whole test session; fails (never skips) if none can be had."""
    try:
        ctx = broker()
        found = ctx.__enter__()
    except Exception as exc:
        pytest.fail(f"no Kafka broker for the tests: {exc}", pytrace=False)
    try:
        yield found
    finally:
        ctx.__exit__(None, None, None)


@pytest.fixture
def kafka_bootstrap(kafka_broker: Broker) -> str:
    return kafka_broker.bootstrap


TopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> TopicFactory:
    """`await new_topic("audit", partitions=3)` creates a uniquely named topic for this test."""

    async def make(prefix: str = "t", partitions: int = 1, **config: str) -> str:
        name = unique(prefix)
        await create_topics(kafka_bootstrap, [name], partitions, dict(config) or None)
        return name

    return make
