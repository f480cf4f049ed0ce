"""The service under process-level faults: SIGTERM, kill -9, a rebalance, a broker restart."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web

from consumer.channel import ChannelConfig, ChannelType
from dev.localkafka import LocalKafka
from tests.conftest import TopicFactory
from tests.support.broker import Broker
from tests.support.kafka import committed_offsets, create_topics, produce, unique
from tests.support.service import ServiceProcess, running, settings_for, write_channels_file
from tests.support.sink import Received, Sink, hang, ok
from tests.test_runtime import sample, wait_committed

pytestmark = pytest.mark.kafka


def process_env(
    bootstrap: str, audit: str, session: str, channels_file: Path, **extra: str
) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_GROUP_ID": unique("group"),
        "WEBHOOK_AUDIT_TOPIC": audit,
        "WEBHOOK_SESSION_TOPIC": session,
        "WEBHOOK_CHANNELS_FILE": str(channels_file),
        "WEBHOOK_CHANNELS_TOPIC": "",
        "WEBHOOK_START_FROM": "earliest",
        "WEBHOOK_ALLOW_INSECURE_TARGETS": "true",
        "WEBHOOK_PACING": "off",
        "HTTP_PORT": "0",
        "LOG_LEVEL": "info",
        **extra,
    }


def tags(received: list[Received]) -> list[str]:
    return [r.json["text"].split("\n")[0].removeprefix("[Audit] ") for r in received]


async def test_sigterm_with_a_hanging_endpoint_drains_commits_and_exits_0(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    audit, session = await new_topic("audit"), await new_topic("sessions")
    project = unique("proj")
    async with Sink() as sink:
        channels = [
            ChannelConfig(
                id="dead",
                project_id=project,
                type=ChannelType.SLACK,
                url=sink.script("/dead", hang()),
            ),
            ChannelConfig(
                id="live",
                project_id=project,
                type=ChannelType.SLACK,
                url=sink.script("/live", ok()),
            ),
        ]
        env = process_env(
            kafka_bootstrap,
            audit,
            session,
            write_channels_file(tmp_path / "channels.yaml", channels),
        )
        proc = ServiceProcess(env, tmp_path / "service.log")
        proc.start()
        try:
            await produce(kafka_bootstrap, audit, [sample("mcp_stepup_success", project)] * 3)
            await sink.wait_for("/dead", 3, timeout=30)
            await sink.wait_for("/live", 3, timeout=5)
            t0 = time.monotonic()
            proc.signal(signal.SIGTERM)
            code = await asyncio.to_thread(proc.wait, 15)
            took = time.monotonic() - t0
        finally:
            proc.stop()
    print(f"SIGTERM with a hanging endpoint: exit {code} after {took:.2f}s")
    assert code == 0, proc.log_path.read_text()[-3000:]
    assert took < 9, (
        f"shutdown took {took:.1f}s"
    )  # budget 5 s + 1 s drain slack, plus start-up noise
    offsets = await committed_offsets(kafka_bootstrap, env["KAFKA_GROUP_ID"])
    assert offsets[(audit, 0)] == 3
    events = [e["event"] for e in proc.logs()]
    assert "stopped" in events
    timeouts = [
        e for e in proc.logs() if e.get("event") == "delivery" and e.get("outcome") == "timeout"
    ]
    assert len(timeouts) == 3


def slow_ok(seconds: float) -> object:
    async def answer(_request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.Response(text="ok")

    return answer


async def test_kill_9_mid_burst_loses_nothing_and_replays_little(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    audit, session = await new_topic("audit"), await new_topic("sessions")
    project = unique("proj")
    total, bound = 1500, 32
    async with Sink(default=slow_ok(0.01)) as sink:  # type: ignore[arg-type]
        url = sink.url("/burst")
        channels = [ChannelConfig(id="c", project_id=project, type=ChannelType.SLACK, url=url)]
        env = process_env(
            kafka_bootstrap,
            audit,
            session,
            write_channels_file(tmp_path / "channels.yaml", channels),
            WEBHOOK_MAX_IN_FLIGHT=str(bound),
        )
        await produce(
            kafka_bootstrap,
            audit,
            [sample("mcp_stepup_success", project, tag=f"n{i}") for i in range(total)],
        )
        first = ServiceProcess(env, tmp_path / "first.log")
        first.start()
        try:
            await sink.wait_for("/burst", total // 3, timeout=60)
            first.kill9()
        finally:
            first.stop()
        before_kill = set(tags(sink.requests("/burst")))
        committed = (await committed_offsets(kafka_bootstrap, env["KAFKA_GROUP_ID"])).get(
            (audit, 0), 0
        )
        assert 0 < committed < total, "the kill should land mid-burst"
        # Every committed record was attempted before the kill.
        assert {f"n{i}" for i in range(committed)} <= before_kill
        n_before = sink.count("/burst")

        second = ServiceProcess(env, tmp_path / "second.log")
        second.start()
        try:
            await wait_committed(kafka_bootstrap, env["KAFKA_GROUP_ID"], {audit: total})
        finally:
            second.signal(signal.SIGTERM)
            await asyncio.to_thread(second.wait, 15)
            second.stop()
    seen = Counter(tags(sink.requests("/burst")))
    assert set(seen) == {f"n{i}" for i in range(total)}  # every record attempted at least once
    replayed = sum(1 for t in tags(sink.requests("/burst")[n_before:]) if t in before_kill)
    # What a crash replays: records in flight plus those finished since the last commit, which
    # is forced once as many records as the in-flight bound have finished.
    print(f"kill -9 after {n_before} posts, committed {committed}: {replayed} replayed")
    assert replayed <= 2 * bound + 1, f"{replayed} duplicates"


async def test_a_rebalance_hands_partitions_over_without_losing_records(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    audit, session = unique("audit"), unique("sessions")
    await create_topics(kafka_bootstrap, [audit, session], partitions=4)
    project = unique("proj")
    total = 400
    async with Sink(default=slow_ok(0.005)) as sink:  # type: ignore[arg-type]
        channels = [
            ChannelConfig(id="c", project_id=project, type=ChannelType.SLACK, url=sink.url("/r"))
        ]
        settings = settings_for(kafka_bootstrap, audit, session, webhook_max_in_flight=16)
        async with running(settings, channels):
            async with running(settings, channels):
                await produce(
                    kafka_bootstrap,
                    audit,
                    [sample("mcp_stepup_success", project, tag=f"r{i}") for i in range(total)],
                )
                await sink.wait_for("/r", total // 4, timeout=30)
            # the second instance left mid-stream: the first takes its partitions over
            await sink.wait_for("/r", total, timeout=60)
            offsets = {}
            for _ in range(100):
                offsets = await committed_offsets(kafka_bootstrap, settings.kafka_group_id)
                if sum(o for (t, _p), o in offsets.items() if t == audit) == total:
                    break
                await asyncio.sleep(0.2)
    assert sum(o for (t, _p), o in offsets.items() if t == audit) == total
    assert set(tags(sink.requests("/r"))) == {f"r{i}" for i in range(total)}


async def test_the_service_rides_out_a_broker_restart(kafka_broker: Broker) -> None:
    if kafka_broker.kind != "local-jar":
        pytest.skip(
            f"needs a broker this test may restart; the session broker is {kafka_broker.kind}"
        )
    local = await asyncio.to_thread(LocalKafka().__enter__)
    try:
        audit, session = unique("audit"), unique("sessions")
        await create_topics(local.bootstrap, [audit, session])
        project = unique("proj")
        async with Sink() as sink:
            channels = [
                ChannelConfig(
                    id="c", project_id=project, type=ChannelType.SLACK, url=sink.script("/b", ok())
                )
            ]
            settings = settings_for(local.bootstrap, audit, session)
            async with running(settings, channels):
                await produce(
                    local.bootstrap,
                    audit,
                    [sample("mcp_stepup_success", project, tag=f"b{i}") for i in range(5)],
                )
                await sink.wait_for("/b", 5, timeout=20)
                await asyncio.to_thread(local.kill)
                await asyncio.sleep(2)
                await asyncio.to_thread(local.restart)
                await produce(
                    local.bootstrap,
                    audit,
                    [sample("mcp_stepup_success", project, tag=f"b{i}") for i in range(5, 10)],
                )
                await sink.wait_for("/b", 10, timeout=60)
                await wait_committed(local.bootstrap, settings.kafka_group_id, {audit: 10})
        assert {f"b{i}" for i in range(10)} <= set(tags(sink.requests("/b")))
    finally:
        await asyncio.to_thread(local.stop)
