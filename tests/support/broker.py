"""Where the tests' Kafka broker comes from, in this order (a broker is never faked):

1. `KAFKA_BOOTSTRAP_SERVERS` is set: use that broker as it is.
2. A Docker engine answers: testcontainers' KafkaContainer (apache/kafka image, KRaft).
3. Otherwise: the local jar broker (`dev.localkafka`, jars from Maven Central, Java 17).

If none can be had the session fails with the reason; Kafka tests never silently skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from dev.localkafka import LocalKafka


@dataclass
class Broker:
    bootstrap: str
    kind: str  # "external" | "testcontainers" | "local-jar"
    local: LocalKafka | None = None  # set for the local jar broker: restart tests need it


def docker_answers() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        done = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


@contextlib.contextmanager
def broker() -> Iterator[Broker]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield Broker(external, "external")
        return
    if os.environ.get("TEST_KAFKA_DOCKER", "auto") != "never" and docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.0.0").with_kraft() as container:
            yield Broker(container.get_bootstrap_server(), "testcontainers")
        return
    local = LocalKafka()
    local.start()
    try:
        yield Broker(local.bootstrap, "local-jar", local)
    finally:
        local.stop()
