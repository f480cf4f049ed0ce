"""A real single-node Apache Kafka broker (KRaft, combined mode) for tests, the demo and benchmarks.

The broker's jars come from Maven Central (`make kafka-jars` copies them into
`.cache/kafka/<version>/libs`); the machine's Java 17 runs them. Nothing is downloaded here.

    with LocalKafka() as kafka:
        print(kafka.bootstrap)          # "127.0.0.1:<free port>"

Also a command line for the Makefile and humans:

    python -m dev.localkafka run         # start, print the bootstrap address, stop on Ctrl-C
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
KAFKA_VERSION = os.environ.get("LOCAL_KAFKA_VERSION", "4.4.0")
DEFAULT_LIBS = ROOT / ".cache" / "kafka" / KAFKA_VERSION / "libs"
LOG4J_CONFIG = ROOT / "dev" / "kafka" / "log4j2.xml"

_PR_SET_PDEATHSIG = 1


class BrokerError(RuntimeError):
    """The local broker could not be started; the message says why and what to do."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the broker when the process that started it dies (even by kill -9)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setpgrp()


def server_properties(port: int, controller_port: int, log_dir: Path) -> str:
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={log_dir}",
            "num.partitions=1",
            "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=3",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "log.segment.bytes=1048576",
            "log.retention.check.interval.ms=60000",
            "log.cleaner.backoff.ms=1000",
            "delete.topic.enable=true",
            "",
        ]
    )


class LocalKafka:
    """One broker process with its own temp directory. Not thread-safe; start once, stop once."""

    def __init__(
        self,
        libs: Path | None = None,
        port: int | None = None,
        workdir: Path | None = None,
        heap: str = "768m",
    ) -> None:
        self.libs = Path(os.environ.get("LOCAL_KAFKA_LIBS", libs or DEFAULT_LIBS))
        self.port = port or free_port()
        self.controller_port = free_port()
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="local-kafka-"))
        self.heap = heap
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "broker.log"

    def _java(self) -> str:
        java_home = os.environ.get("JAVA_HOME")
        java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
        if not java:
            raise BrokerError("no `java` on PATH: the local Kafka broker needs Java 17")
        return java

    def _classpath(self) -> str:
        if not any(self.libs.glob("kafka_2.13-*.jar")):
            raise BrokerError(
                f"no Kafka jars in {self.libs}: run `make kafka-jars` (Maven fetches them from "
                "Maven Central), or set KAFKA_BOOTSTRAP_SERVERS to an existing broker"
            )
        return str(self.libs / "*")

    def _java_cmd(self, *args: str) -> list[str]:
        return [
            self._java(),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            f"-Dkafka.logs.dir={self.workdir}",
            "-cp",
            self._classpath(),
            *args,
        ]

    def start(self, timeout: float = 90.0) -> str:
        t0 = time.monotonic()
        props = self.workdir / "server.properties"
        props.write_text(server_properties(self.port, self.controller_port, self.workdir / "data"))
        cluster_id = uuid.uuid4().hex[:22]
        fmt = subprocess.run(
            self._java_cmd("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)),
            capture_output=True,
            timeout=120,
            check=False,
        )
        if fmt.returncode != 0:
            raise BrokerError(f"formatting Kafka storage failed: {fmt.stderr.decode()[-2000:]}")
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self._java_cmd("kafka.Kafka", str(props)),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        log.close()
        try:
            asyncio.run(wait_until_ready(self.bootstrap, timeout, self.process))
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self.bootstrap

    def stop(self, timeout: float = 30.0) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def kill(self) -> None:
        """Stop the broker abruptly but keep its data (for restart tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self, timeout: float = 90.0) -> None:
        """Start again on the same port and data directory (after `kill` or a graceful pause)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self._java_cmd("kafka.Kafka", str(self.workdir / "server.properties")),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        log.close()
        asyncio.run(wait_until_ready(self.bootstrap, timeout, self.process))

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def wait_until_ready(
    bootstrap: str, within_s: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until the broker answers a metadata request and can host a consumer group."""
    import logging

    from aiokafka.admin import AIOKafkaAdminClient

    quiet = logging.getLogger("aiokafka")  # it logs "connect failed" until the broker is up
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        await _poll_ready(bootstrap, within_s, process, AIOKafkaAdminClient)
    finally:
        quiet.setLevel(level)


async def _poll_ready(
    bootstrap: str,
    within_s: float,
    process: subprocess.Popen[bytes] | None,
    admin_class: type,
) -> None:
    deadline = time.monotonic() + within_s
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise BrokerError(f"the Kafka broker exited with code {process.returncode}")
        admin = admin_class(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            if cluster.get("brokers"):
                return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last = exc
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        await asyncio.sleep(0.25)
    raise BrokerError(
        f"the Kafka broker at {bootstrap} did not answer in {within_s:.0f}s: {last!r}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.localkafka", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="start a broker and keep it until Ctrl-C / SIGTERM")
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--bootstrap-file", type=Path, help="write the bootstrap address here")
    args = parser.parse_args(argv)
    kafka = LocalKafka(port=args.port)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    kafka.start()
    print(f"kafka {KAFKA_VERSION} ready at {kafka.bootstrap} in {kafka.startup_seconds:.1f}s")
    sys.stdout.flush()
    if args.bootstrap_file:
        args.bootstrap_file.write_text(kafka.bootstrap)
    try:
        while not stop and kafka.process is not None and kafka.process.poll() is None:
            time.sleep(0.2)
    finally:
        kafka.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
