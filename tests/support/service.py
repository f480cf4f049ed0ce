"""Run the real service against the real broker, in-process or as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import yaml

from consumer.channel import ChannelConfig
from consumer.config import Settings
from consumer.service import Service
from tests.support.kafka import unique

ROOT = Path(__file__).resolve().parents[2]


class StaticChannels:
    """A fixed channel directory (the real, reloading one is tested on its own)."""

    def __init__(self, channels: Sequence[ChannelConfig]) -> None:
        self._by_project: dict[str, list[ChannelConfig]] = {}
        for c in channels:
            if c.active:
                self._by_project.setdefault(c.project_id, []).append(c)

    @property
    def ready(self) -> bool:
        return True

    def active_for(self, project_id: str) -> Sequence[ChannelConfig]:
        return self._by_project.get(project_id, ())

    async def wait_ready(self) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def settings_for(bootstrap: str, audit: str, session: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap,
        "kafka_group_id": unique("group"),
        "webhook_audit_topic": audit,
        "webhook_session_topic": session,
        "webhook_channels_topic": "",
        "webhook_start_from": "earliest",
        "webhook_allow_insecure_targets": True,
        "webhook_pacing": "off",
        "http_port": 0,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running(settings: Settings, channels: Sequence[ChannelConfig]) -> AsyncIterator[Service]:
    """The service in a task of this loop; stopped gracefully (and awaited) on exit."""
    service = Service(settings, StaticChannels(channels))
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await wait_until(lambda: service.readiness()["joined_group"] or task.done(), 30)
        if task.done():
            task.result()
        yield service
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def wait_until(predicate: Any, within_s: float, step: float = 0.05) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {within_s}s")
        await asyncio.sleep(step)


def write_channels_file(path: Path, channels: Sequence[ChannelConfig]) -> Path:
    path.write_text(yaml.safe_dump({"channels": [c.model_dump(mode="json") for c in channels]}))
    return path


class ServiceProcess:
    """`python -m consumer run` as a child process, with its JSON log lines collected."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env}
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "consumer", "run"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        self.wait(10)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def logs(self) -> list[dict[str, Any]]:
        entries = []
        for line in self.log_path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                entries.append(orjson.loads(line))
        return entries

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
