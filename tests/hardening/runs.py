"""The real service (`python -m consumer run`, a child process) against the real broker and the
scripted sink, with everything it prints kept for the checks and the secrets scan.

    async with Sink() as sink, ServiceRun.start(bootstrap, tmp, channels, ...) as run:
        offsets = await run.produce(run.audit, [value, ...])
        await run.wait_committed()
        metrics = await run.metrics()
    run.output  # every byte it printed; run.logs() the JSON lines
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from consumer.channel import ChannelConfig
from tests.hardening.credentials import SASL_PASSWORD
from tests.support.kafka import committed_offsets, create_topics, unique
from tests.support.service import ROOT, write_channels_file

#: Large records need room on the topic (and in the segment) and in the test's producer.
BIG_TOPIC: dict[str, str] = {
    "max.message.bytes": str(8 * 1024 * 1024),
    "segment.bytes": str(16 * 1024 * 1024),
}
MAX_REQUEST_BYTES = 8 * 1024 * 1024


@dataclass
class Dead:
    """One record read back from the dead-letter topic."""

    value: bytes | None
    key: bytes | None
    headers: dict[str, bytes]


@dataclass
class ServiceRun:
    bootstrap: str
    audit: str
    session: str
    dlq: str | None
    group: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    http_port: int | None = None
    exit_code: int | None = None
    produced: dict[str, int] = field(default_factory=dict)

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        bootstrap: str,
        tmp: Path,
        channels: Sequence[ChannelConfig],
        *,
        dlq_config: dict[str, str] | None = None,
        **env: str,
    ) -> AsyncIterator[ServiceRun]:
        """Topics (big-record ready), channels file, the process; SIGTERM and exit 0 at the end."""
        audit, session = unique("h-audit"), unique("h-sessions")
        await create_topics(bootstrap, [audit, session], 1, BIG_TOPIC)
        dlq = None
        if dlq_config is not None:
            dlq = unique("h-dlq")
            await create_topics(bootstrap, [dlq], 1, dlq_config)
        run = cls(bootstrap, audit, session, dlq, unique("h-group"), tmp / "service.log")
        channels_file = write_channels_file(tmp / "channels.yaml", channels)
        run._spawn(channels_file, env)
        try:
            await run._wait_ready()
            yield run
            await run.stop()
        finally:
            if run.proc is not None and run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait(10)

    def _spawn(self, channels_file: Path, extra: dict[str, str]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "KAFKA_"))}
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "KAFKA_GROUP_ID": self.group,
                # Never used with PLAINTEXT: present so the scan can prove it is never printed.
                "KAFKA_SASL_USERNAME": "hardening",
                "KAFKA_SASL_PASSWORD": SASL_PASSWORD,
                "WEBHOOK_AUDIT_TOPIC": self.audit,
                "WEBHOOK_SESSION_TOPIC": self.session,
                "WEBHOOK_CHANNELS_FILE": str(channels_file),
                "WEBHOOK_CHANNELS_TOPIC": "",
                "WEBHOOK_START_FROM": "earliest",
                "WEBHOOK_ALLOW_INSECURE_TARGETS": "true",
                "WEBHOOK_PACING": "off",
                "HTTP_PORT": "0",
                "LOG_LEVEL": "debug",
                "LOG_FORMAT": "json",
            }
        )
        if self.dlq:
            env["WEBHOOK_DLQ_TOPIC"] = self.dlq
        env.update(extra)
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "consumer", "run"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    # -- what it printed ---------------------------------------------------------------------

    @property
    def output(self) -> str:
        """Every byte the process wrote (stdout and stderr), as text."""
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def logs(self) -> list[dict[str, Any]]:
        entries = []
        for line in self.log_path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                entry = orjson.loads(line)
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.logs() if e.get("event") == name]

    # -- driving it ----------------------------------------------------------------------------

    async def _wait_ready(self, within_s: float = 60) -> None:
        deadline = time.monotonic() + within_s
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(f"the service exited early:\n{self.output[-3000:]}")
                if self.http_port is None:
                    starting = self.events("starting")
                    self.http_port = starting[0]["http_port"] if starting else None
                if self.http_port is not None:
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(self._url("/readyz")) as response:
                            if response.status == 200:
                                return
                await asyncio.sleep(0.1)
        raise AssertionError(f"the service was not ready in {within_s}s:\n{self.output[-3000:]}")

    def _url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    async def produce(
        self, topic: str, values: Sequence[bytes | None], keys: Sequence[bytes] | None = None
    ) -> list[int]:
        """Publish `values` in order (each under its key, by default its index); returns their
        offsets. Distinct keys let the service work on the records concurrently."""
        keys = keys or [str(n).encode() for n in range(len(values))]
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", max_request_size=MAX_REQUEST_BYTES
        )
        await producer.start()
        try:
            futures = [
                await producer.send(topic, value, key=key)
                for value, key in zip(values, keys, strict=True)
            ]
            offsets = [(await future).offset for future in futures]
        finally:
            await producer.stop()
        self.produced[topic] = max(self.produced.get(topic, 0), offsets[-1] + 1 if offsets else 0)
        return offsets

    async def committed(self) -> dict[str, int]:
        offsets = await committed_offsets(self.bootstrap, self.group)
        return {t: offsets.get((t, 0), 0) for t in (self.audit, self.session)}

    async def wait_committed(self, within_s: float = 90) -> dict[str, int]:
        """Wait until every produced record of both topics is committed."""
        wanted = {t: self.produced.get(t, 0) for t in (self.audit, self.session)}
        deadline = time.monotonic() + within_s
        seen: dict[str, int] = {}
        while time.monotonic() < deadline:
            seen = await self.committed()
            if seen == wanted:
                return seen
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"the service died:\n{self.output[-3000:]}")
            await asyncio.sleep(0.25)
        raise AssertionError(f"committed {seen}, produced {wanted}")

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as session, session.get(self._url("/metrics")) as r:
            assert r.status == 200
            return await r.text()

    async def alive(self) -> bool:
        async with aiohttp.ClientSession() as session, session.get(self._url("/livez")) as r:
            return r.status == 200

    async def stop(self) -> None:
        """SIGTERM, then wait for the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        self.exit_code = await asyncio.to_thread(self.proc.wait, 20)

    async def dead_letters(self, within_s: float = 15) -> list[Dead]:
        """Every record of the dead-letter topic (read up to its end offset)."""
        assert self.dlq is not None
        reader = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            max_partition_fetch_bytes=MAX_REQUEST_BYTES,
            fetch_max_bytes=4 * MAX_REQUEST_BYTES,
        )
        await reader.start()
        got: list[Dead] = []
        try:
            partition = TopicPartition(self.dlq, 0)
            reader.assign([partition])
            await reader.seek_to_beginning(partition)
            end = (await reader.end_offsets([partition]))[partition]
            deadline = time.monotonic() + within_s
            while await reader.position(partition) < end and time.monotonic() < deadline:
                batches = await reader.getmany(timeout_ms=300)
                for records in batches.values():
                    got.extend(
                        Dead(r.value, r.key, {k: bytes(v) for k, v in r.headers}) for r in records
                    )
        finally:
            await reader.stop()
        return got


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus text exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        sample, _, label_text = head.partition("{")
        found = ",".join(sorted(label_text.rstrip("}").split(","))) if label_text else ""
        if sample == name and found == wanted:
            return float(value)
    return 0.0
