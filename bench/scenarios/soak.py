"""Scenario 5, memory: the real `webhook-consumer run` process under a steady load.

The service runs as its own process (`python -m consumer run`, configured by environment
variables and a channels file, logs at info to /dev/null) so that its RSS is its own. A producer
process writes firing rows at a steady rate for the soak's length; RSS is sampled every few
seconds. Reported: RSS once ready (before any load), after the warm-up, and at the end.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import aiohttp
import psutil
import yaml

from bench.harness import bench_channels
from bench.kafka import CommitWatch, make_topics
from bench.scenarios.steady import produce_steady
from bench.sink import ROOT, SinkProcess
from bench.stats import percentile, rounded
from tests.support.kafka import unique

SAMPLE_EVERY_S: Final = 5.0
#: RSS "after warm-up" is the first sample this long after the load started.
WARM_UP_S: Final = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_mib(proc: psutil.Process) -> float:
    return round(proc.memory_info().rss / 2**20, 1)


async def _ready(port: int, proc: asyncio.subprocess.Process, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"the service exited with {proc.returncode}")
            try:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("the service did not get ready")


async def run(sink: SinkProcess, bootstrap: str, per_s: float, seconds: float) -> dict[str, Any]:
    audit, session = unique("bench-soak"), unique("bench-sessions")
    await make_topics(bootstrap, audit, session)
    group, port = unique("bench-soak"), _free_port()
    await sink.reset()
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        channels_file = Path(tmp) / "channels.yaml"
        channels_file.write_text(
            yaml.safe_dump(
                {"channels": [c.model_dump(mode="json") for c in bench_channels(sink.url)]}
            )
        )
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_GROUP_ID": group,
            "WEBHOOK_AUDIT_TOPIC": audit,
            "WEBHOOK_SESSION_TOPIC": session,
            "WEBHOOK_CHANNELS_FILE": str(channels_file),
            "WEBHOOK_CHANNELS_TOPIC": "",
            "WEBHOOK_START_FROM": "earliest",
            "WEBHOOK_PACING": "off",
            "WEBHOOK_ALLOW_INSECURE_TARGETS": "true",
            "HTTP_PORT": str(port),
            "LOG_LEVEL": "info",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "consumer", "run",
            cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            return await _soak(proc, port, sink, bootstrap, group, audit, per_s, seconds)
        finally:
            if proc.returncode is None:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 30)


async def _soak(
    proc: asyncio.subprocess.Process,
    port: int,
    sink: SinkProcess,
    bootstrap: str,
    group: str,
    audit: str,
    per_s: float,
    seconds: float,
) -> dict[str, Any]:
    await _ready(port, proc)
    ps = psutil.Process(proc.pid)
    rss_ready = _rss_mib(ps)
    samples: list[tuple[float, float]] = []
    watch = CommitWatch(bootstrap, group, audit, every_s=1.0)
    async with watch.running():
        producing = asyncio.create_task(produce_steady(bootstrap, audit, per_s, seconds))
        t0 = time.monotonic()
        while not producing.done():
            samples.append((round(time.monotonic() - t0, 1), _rss_mib(ps)))
            await asyncio.wait([producing], timeout=SAMPLE_EVERY_S)
        produced = producing.result()
        watch.target = int(produced["sent"])
        await asyncio.wait_for(watch.done.wait(), 30)
    samples.append((round(time.monotonic() - t0, 1), _rss_mib(ps)))
    stats = await sink.stats()
    latencies = [ms for h in ("slack", "discord") for ms in stats[h]["latencies_ms"]]
    warm = next((rss for t, rss in samples if t >= min(WARM_UP_S, seconds / 2)), samples[-1][1])
    end = samples[-1][1]
    return {
        "rate_offered": per_s,
        "seconds": seconds,
        "records": int(produced["sent"]),
        "deliveries": sum(int(stats[h]["count"]) for h in ("slack", "discord")),
        "rss_ready_mib": rss_ready,
        "rss_warm_mib": warm,
        "rss_end_mib": end,
        "rss_max_mib": max(rss for _, rss in samples),
        "growth_from_ready": round(end / rss_ready - 1, 4),
        "growth_from_warm": round(end / warm - 1, 4),
        "p50_ms": rounded(percentile(latencies, 50), 2),
        "p99_ms": rounded(percentile(latencies, 99), 2),
        "rss_samples": samples,
    }
