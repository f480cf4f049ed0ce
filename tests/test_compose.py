"""docker-compose.yml, checked by reading it (no Docker engine here to run it).

The pieces must fit together: the consumer's environment is made of real settings and loads,
its bootstrap address is a listener the broker advertises, the topics it reads and writes are
created by the init job, the channels file it mounts exists, is valid, and points every channel
at the sink under the path prefix that makes the sink answer like that channel's provider.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from consumer.config import Settings, load_settings
from consumer.directory import load_channels_file, url_policy
from dev.capture_sink import PROVIDERS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
Service = dict[str, Any]


@pytest.fixture(scope="module")
def services() -> dict[str, Service]:
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    result: dict[str, Service] = doc["services"]
    return result


@pytest.fixture(scope="module")
def consumer_env(services: dict[str, Service]) -> dict[str, str]:
    return {k: str(v) for k, v in services["consumer"]["environment"].items()}


def mounts(service: Service) -> dict[str, Path]:
    """Container path -> host path (relative to the repository) of the bind mounts."""
    result = {}
    for volume in service.get("volumes", []):
        host, container, *_mode = volume.split(":")
        result[container] = ROOT / host
    return result


def test_the_four_services_are_there(services: dict[str, Service]) -> None:
    assert set(services) == {"kafka", "topics", "sink", "consumer"}
    for name in ("kafka", "topics"):
        image = services[name]["image"]
        assert re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", image), f"{name}: a pinned tag"
    for name in ("sink", "consumer"):
        assert services[name]["build"] == ".", f"{name} runs the image of ./Dockerfile"


def test_the_consumer_environment_is_made_of_settings_that_load(
    consumer_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_names = {field.upper() for field in Settings.model_fields}
    assert set(consumer_env) <= settings_names, sorted(set(consumer_env) - settings_names)
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    for key, value in consumer_env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.webhook_allow_insecure_targets is True, "the sink is plain http"


def test_the_consumer_starts_after_its_topics_and_its_sink(services: dict[str, Service]) -> None:
    needs = services["consumer"]["depends_on"]
    assert needs["topics"]["condition"] == "service_completed_successfully"
    assert needs["sink"]["condition"] == "service_healthy"
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "healthcheck" in services["kafka"]
    assert "healthcheck" in services["sink"]


def test_the_bootstrap_address_is_a_listener_the_broker_advertises(
    services: dict[str, Service], consumer_env: dict[str, str]
) -> None:
    advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    addresses = {item.split("://", 1)[1] for item in advertised.split(",")}
    assert consumer_env["KAFKA_BOOTSTRAP_SERVERS"] in addresses


def test_every_topic_the_consumer_uses_is_created(
    services: dict[str, Service], consumer_env: dict[str, str]
) -> None:
    script = "\n".join(services["topics"]["command"])
    created = dict(re.findall(r"--topic (\S+)(.*)", script))
    for key in (
        "WEBHOOK_AUDIT_TOPIC",
        "WEBHOOK_SESSION_TOPIC",
        "WEBHOOK_CHANNELS_TOPIC",
        "WEBHOOK_DLQ_TOPIC",
    ):
        assert consumer_env[key] in created, key
    assert "cleanup.policy=compact" in created[consumer_env["WEBHOOK_CHANNELS_TOPIC"]]


def test_shell_dollars_are_escaped_from_compose_interpolation() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert not re.search(r"(?<!\$)\$(?!\$)", text.replace("$$", "")), "use $$ for a shell $"


def test_the_channels_file_is_mounted_valid_and_aimed_at_the_sink(
    services: dict[str, Service], consumer_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in consumer_env.items():
        monkeypatch.setenv(key, value)
    host_file = mounts(services["consumer"])[consumer_env["WEBHOOK_CHANNELS_FILE"]]
    channels = load_channels_file(host_file, url_policy(load_settings()))
    assert {c.type.value for c in channels} == set(PROVIDERS), "one channel of every type"
    sink_port = services["sink"]["entrypoint"][services["sink"]["entrypoint"].index("--port") + 1]
    for channel in channels:
        url = urlsplit(channel.url)
        assert (url.hostname, str(url.port)) == ("sink", sink_port), channel.id
        assert url.path.split("/")[1] == channel.type.value, "the sink plays this provider"
        assert channel.active


def test_the_sink_script_is_mounted_from_the_repository(services: dict[str, Service]) -> None:
    sink = services["sink"]
    script = next(arg for arg in sink["entrypoint"] if arg.endswith(".py"))
    assert mounts(sink)[script] == ROOT / "dev" / "capture_sink.py"


def test_the_consumer_runs_like_on_kubernetes(services: dict[str, Service]) -> None:
    consumer = services["consumer"]
    assert consumer["read_only"] is True
    assert "/tmp" in consumer["tmpfs"]  # noqa: S108 - the container's tmpfs mount, not a file
    grace = int(consumer["stop_grace_period"].rstrip("s"))
    assert grace > 10, "room for the drain on SIGTERM"
    assert consumer["command"] == ["run"]
