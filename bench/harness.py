"""The service in this process, on this event loop, as the benchmark's subject.

It runs exactly as `webhook-consumer run` does (`consumer.service.Service`) with a fixed channel
list (`tests.support.service.StaticChannels`) instead of a channels file: the directory's reload
machinery is not on the hot path and is measured elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from consumer.channel import ChannelConfig, ChannelType
from consumer.config import Settings
from consumer.service import Service
from tests.support.service import StaticChannels, settings_for

#: The records in flight the service runs with by default (the raw baselines use the same).
MAX_IN_FLIGHT: Final[int] = Settings.model_fields["webhook_max_in_flight"].default
#: How often the harness looks whether the service joined its group (start of the clock).
_JOIN_POLL_S: Final = 0.002
PROJECT: Final = "proj_bench"


@dataclass
class RunningService:
    service: Service
    assigned_at: float  # time.monotonic() when it was handed its partitions


def bench_channels(sink_url: Any, *, with_hang: bool = False) -> list[ChannelConfig]:
    """Two healthy channels of PROJECT on two sink hosts, plus one that hangs if asked."""
    channels = [
        ChannelConfig(
            id="sec-slack",
            project_id=PROJECT,
            type=ChannelType.SLACK,
            url=sink_url("slack", "/services/T0/B0/sec"),
        ),
        ChannelConfig(
            id="oncall-discord",
            project_id=PROJECT,
            type=ChannelType.DISCORD,
            url=sink_url("discord", "/api/webhooks/1/oncall"),
        ),
    ]
    if with_hang:
        channels.append(
            ChannelConfig(
                id="dead-teams",
                project_id=PROJECT,
                type=ChannelType.TEAMS,
                url=sink_url("hang", "/workflows/dead"),
            )
        )
    return channels


def settings(bootstrap: str, audit: str, session: str, group: str) -> Settings:
    return settings_for(bootstrap, audit, session, kafka_group_id=group, log_level="info")


@contextlib.asynccontextmanager
async def running(
    bootstrap: str, audit: str, session: str, group: str, channels: Sequence[ChannelConfig]
) -> AsyncIterator[RunningService]:
    """Start the service; yields once it has its partitions; stops it gracefully on exit."""
    service = Service(settings(bootstrap, audit, session, group), StaticChannels(channels))
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop), name="service")
    try:
        async with asyncio.timeout(60):
            while not service.readiness()["joined_group"]:
                if task.done():
                    task.result()
                    raise RuntimeError("the service stopped before joining its group")
                await asyncio.sleep(_JOIN_POLL_S)
        yield RunningService(service, time.monotonic())
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
