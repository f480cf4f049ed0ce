"""Configuration from the environment: names and defaults of ARCHITECTURE.md §6."""

from __future__ import annotations

import pytest

from consumer.config import Settings, env_help, load_settings
from consumer.errors import ConfigError


def test_defaults_match_the_architecture(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    s = load_settings()
    assert s.kafka_bootstrap_servers == "localhost:9092"
    assert s.kafka_group_id == "transcodes-webhooks"
    assert s.webhook_audit_topic == "audit-log"
    assert s.webhook_session_topic == "hosted-auth-sessions"
    assert s.webhook_channels_topic == "webhook-channels"
    assert s.webhook_timeout_s == 5
    assert s.webhook_start_from == "latest"
    assert s.webhook_pacing == "provider"
    assert s.http_port == 8080
    assert s.log_format == "json"
    assert s.webhook_dlq_topic is None
    assert s.webhook_allow_insecure_targets is False


def test_env_values_are_read_and_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_EXTRA_HOSTS", " Hooks.Example.com , *.corp.example ,")
    monkeypatch.setenv("WEBHOOK_START_FROM", "EARLIEST")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "hunter2")
    monkeypatch.setenv("WEBHOOK_DLQ_TOPIC", "")
    s = load_settings()
    assert s.webhook_extra_hosts == ("hooks.example.com", "*.corp.example")
    assert s.webhook_start_from == "earliest"
    assert s.webhook_dlq_topic is None
    assert "hunter2" not in repr(s)


def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_TIMEOUT_S", "soon")
    with pytest.raises(ConfigError, match="WEBHOOK_TIMEOUT_S"):
        load_settings()


def test_help_lists_every_variable_with_its_default() -> None:
    text = env_help()
    for name in Settings.model_fields:
        assert name.upper() in text
    assert "[default: localhost:9092]" in text
