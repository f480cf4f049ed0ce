"""/livez, /readyz and /metrics of a running service."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aiohttp
import pytest

from consumer.channel import ChannelConfig
from consumer.service import Service
from tests.conftest import TopicFactory
from tests.support.kafka import produce, unique
from tests.support.service import StaticChannels, settings_for, wait_until
from tests.test_runtime import sample

pytestmark = pytest.mark.kafka


class NotYetLoaded(StaticChannels):
    def __init__(self, channels: Sequence[ChannelConfig]) -> None:
        super().__init__(channels)
        self.loaded = asyncio.Event()

    @property
    def ready(self) -> bool:
        return self.loaded.is_set()

    async def wait_ready(self) -> None:
        await self.loaded.wait()


async def test_probes_and_metrics(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    audit, session = await new_topic("audit"), await new_topic("sessions")
    directory = NotYetLoaded([])
    settings = settings_for(kafka_bootstrap, audit, session)
    service = Service(settings, directory)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await wait_until(lambda: service.health is not None and service.health.port, 20)
        assert service.health is not None
        base = f"http://127.0.0.1:{service.health.port}"
        async with aiohttp.ClientSession() as http:
            await produce(kafka_bootstrap, audit, [sample("guard_deny_rbac", unique("p")), b"{"])
            await asyncio.sleep(1)
            async with http.get(f"{base}/readyz") as r:
                assert r.status == 503  # the channel directory is not loaded: nothing consumed
                assert await r.json() == {
                    "ready": False,
                    "checks": {"joined_group": False, "channels_loaded": False},
                }
            async with http.get(f"{base}/metrics") as r:
                assert f'webhook_records_consumed_total{{topic="{audit}"}}' not in await r.text()
            directory.loaded.set()
            await wait_until(lambda: service.readiness()["joined_group"], 30)
            async with http.get(f"{base}/readyz") as r:
                assert r.status == 200
            async with http.get(f"{base}/livez") as r:
                assert r.status == 200

            text = ""
            for _ in range(100):
                async with http.get(f"{base}/metrics") as r:
                    text = await r.text()
                if f'webhook_records_poison_total{{topic="{audit}"}} 1.0' in text:
                    break
                await asyncio.sleep(0.1)
            assert f'webhook_records_consumed_total{{topic="{audit}"}} 2.0' in text
            assert f'webhook_records_decoded_total{{topic="{audit}"}} 1.0' in text
            assert f'webhook_records_poison_total{{topic="{audit}"}} 1.0' in text
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert not service.alive()  # the consume loop has ended
