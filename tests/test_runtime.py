"""The service end to end, in-process: real broker, real HTTP sink, real commits."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from consumer.channel import ChannelConfig, ChannelType
from tests.conftest import TopicFactory
from tests.support.events import event_bytes
from tests.support.kafka import committed_offsets, produce, unique
from tests.support.service import running, settings_for
from tests.support.sink import Sink, hang, ok, status

pytestmark = pytest.mark.kafka

FIRING_AUDIT = ["mcp_stepup_success", "mcp_stepup_failure", "billing_refund_forced"]
SILENT_AUDIT = [
    "guard_stepup_gate_pending",
    "guard_gate_allow_after_verify",
    "guard_deny_rbac",
    "guard_deny_stepup_failure",
    "guard_gate_medium_with_webhook_flag",
]
FIRING_SESSION = [
    "guard_stepup_session_created",
    "sdk_redirect_stepup_session",
    "signin_session",
    "console_session",
]
SILENT_SESSION = ["session_verified", "session_created_without_url"]


def sample(name: str, project_id: str, **changes: Any) -> bytes:
    data = orjson.loads(event_bytes(name))
    data["project_id"] = project_id
    data.update(changes)
    return orjson.dumps(data)


def channel(cid: str, project: str, kind: ChannelType, url: str, **extra: Any) -> ChannelConfig:
    if kind is ChannelType.TELEGRAM:
        extra.setdefault("chat_id", "-100123")
    return ChannelConfig(id=cid, project_id=project, type=kind, url=url, **extra)


async def wait_committed(bootstrap: str, group: str, expected: dict[str, int]) -> None:
    """Wait until the group's committed offset per topic (partition 0) equals `expected`."""
    seen: dict[tuple[str, int], int] = {}

    async def check() -> bool:
        nonlocal seen
        seen = await committed_offsets(bootstrap, group)
        return all(seen.get((t, 0)) == o for t, o in expected.items())

    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"committed {seen}, expected {expected}")


async def test_the_specs_scenarios_reach_exactly_the_right_channels(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    audit, session = await new_topic("audit"), await new_topic("sessions")
    project, other = unique("proj"), unique("proj")
    async with Sink() as sink:
        channels = [
            channel("sec-slack", project, ChannelType.SLACK, sink.script("/slack", ok())),
            channel(
                "sec-discord", project, ChannelType.DISCORD, sink.script("/discord", ok(204, b""))
            ),
            channel(
                "old-teams",
                project,
                ChannelType.TEAMS,
                sink.script("/teams", ok(202, b"")),
                active=False,
            ),
            channel(
                "other-tg", other, ChannelType.TELEGRAM, sink.script("/tg", ok(200, b'{"ok":true}'))
            ),
        ]
        settings = settings_for(kafka_bootstrap, audit, session)
        await produce(
            kafka_bootstrap, audit, [sample(n, project) for n in SILENT_AUDIT + FIRING_AUDIT]
        )
        await produce(
            kafka_bootstrap, session, [sample(n, project) for n in SILENT_SESSION + FIRING_SESSION]
        )
        await produce(kafka_bootstrap, audit, [sample("mcp_stepup_failure", other)])
        async with running(settings, channels):
            fired = len(FIRING_AUDIT) + len(FIRING_SESSION)
            await sink.wait_for("/slack", fired, timeout=20)
            await sink.wait_for("/discord", fired, timeout=20)
            await sink.wait_for("/tg", 1, timeout=20)
            await wait_committed(
                kafka_bootstrap,
                settings.kafka_group_id,
                {
                    audit: len(SILENT_AUDIT) + len(FIRING_AUDIT) + 1,
                    session: len(SILENT_SESSION) + len(FIRING_SESSION),
                },
            )
        assert sink.count("/slack") == fired  # nothing else arrived meanwhile
        assert sink.count("/teams") == 0  # inactive channels receive nothing
        texts = sorted(b["text"].split("\n")[0] for b in sink.bodies("/slack"))
        assert texts == sorted(
            ["[Audit] mcp:stepup", "[Audit] mcp:stepup", "[Audit] billing:refund"]
            + ["[Step-up] Re-authentication requested"] * len(FIRING_SESSION)
        )
        discord = sink.bodies("/discord")
        assert all(b["allowed_mentions"] == {"parse": []} for b in discord)
        telegram = sink.bodies("/tg")
        assert telegram[0]["chat_id"] == "-100123"
        assert "[Audit] mcp:stepup" in telegram[0]["text"]


async def test_offsets_are_committed_after_failures_and_timeouts_too(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    audit, session = await new_topic("audit"), await new_topic("sessions")
    project = unique("proj")
    async with Sink() as sink:
        channels = [
            channel("broken", project, ChannelType.SLACK, sink.script("/broken", status(500))),
            channel("dead", project, ChannelType.SLACK, sink.script("/dead", hang())),
        ]
        settings = settings_for(kafka_bootstrap, audit, session, webhook_timeout_s=1.0)
        await produce(kafka_bootstrap, audit, [sample("mcp_stepup_success", project)] * 5)
        async with running(settings, channels):
            await wait_committed(kafka_bootstrap, settings.kafka_group_id, {audit: 5})
        assert sink.count("/dead") >= 1
        assert sink.count("/broken") >= 5


async def test_the_committed_offset_waits_for_a_slow_record(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    audit, session = await new_topic("audit"), await new_topic("sessions")
    slow_project, fast_project = unique("slow"), unique("fast")
    async with Sink() as sink:
        channels = [
            channel("slow", slow_project, ChannelType.SLACK, sink.script("/slow", hang())),
            channel("fast", fast_project, ChannelType.SLACK, sink.script("/fast", ok())),
        ]
        settings = settings_for(kafka_bootstrap, audit, session, webhook_timeout_s=3.0)
        values = [sample("mcp_stepup_success", slow_project)] + [
            sample("mcp_stepup_success", fast_project, id=f"aud_{i}") for i in range(9)
        ]
        await produce(kafka_bootstrap, audit, values)
        async with running(settings, channels):
            await sink.wait_for("/fast", 9, timeout=10)
            await sink.wait_for("/slow", 1, timeout=10)
            # The fast records are done, the slow one hangs until its 3 s budget ends: the
            # committed offset must stay at 0 (before the slow record) until then.
            for _ in range(8):
                committed = (await committed_offsets(kafka_bootstrap, settings.kafka_group_id)).get(
                    (audit, 0)
                )
                assert committed in (None, 0)
                await asyncio.sleep(0.2)
            await wait_committed(kafka_bootstrap, settings.kafka_group_id, {audit: 10})


async def test_poison_records_go_to_the_dead_letter_topic_and_never_stop_the_consumer(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    from aiokafka import AIOKafkaConsumer

    audit, session, dlq = (
        await new_topic("audit"),
        await new_topic("sessions"),
        await new_topic("dlq"),
    )
    project = unique("proj")
    poison = [
        b"{not json",
        orjson.dumps(
            {
                "id": "x",
                "project_id": project,
                "tag": "t",
                "severity": "extreme",
                "created_at": "2026-12-04T00:00:00Z",
            }
        ),
    ]
    async with Sink() as sink:
        channels = [channel("s", project, ChannelType.SLACK, sink.script("/s", ok()))]
        settings = settings_for(kafka_bootstrap, audit, session, webhook_dlq_topic=dlq)
        await produce(
            kafka_bootstrap,
            audit,
            [
                sample("mcp_stepup_success", project),
                poison[0],
                sample("mcp_stepup_failure", project),
                poison[1],
                sample("billing_refund_forced", project),
            ],
        )
        async with running(settings, channels):
            await sink.wait_for("/s", 3, timeout=15)
            await wait_committed(kafka_bootstrap, settings.kafka_group_id, {audit: 5})

    reader = AIOKafkaConsumer(dlq, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    await reader.start()
    try:
        got: list[Any] = []
        for _ in range(20):
            batch = await reader.getmany(timeout_ms=500)
            got.extend(r for rs in batch.values() for r in rs)
            if len(got) >= 2:
                break
    finally:
        await reader.stop()
    assert [r.value for r in got] == poison
    headers = dict(got[1].headers)
    assert headers["x-source-topic"] == audit.encode()
    assert headers["x-source-offset"] == b"3"
    assert b"severity" in headers["x-error"]
    assert b"extreme" not in headers["x-error"]  # the error names the field, not the value
