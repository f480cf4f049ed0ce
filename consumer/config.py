"""Service configuration, read from the environment (names fixed by ARCHITECTURE.md §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from consumer.errors import ConfigError


class Settings(BaseSettings):
    """Every knob of `webhook-consumer run`. Field names map one-to-one to upper-case env vars."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    kafka_bootstrap_servers: str = Field(
        "localhost:9092", description="Kafka brokers, comma separated host:port"
    )
    kafka_group_id: str = Field("transcodes-webhooks", description="consumer group id")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with SASL_*)"
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password (secret)")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle for SSL / SASL_SSL")
    webhook_audit_topic: str = Field("audit-log", description="topic of audit rows")
    webhook_session_topic: str = Field(
        "hosted-auth-sessions", description="topic of hosted-auth session events"
    )
    webhook_channels_file: Path | None = Field(
        None, description="channels file (YAML or JSON), re-read when it changes"
    )
    webhook_channels_topic: str = Field(
        "webhook-channels", description="compacted channels topic; empty disables it"
    )
    webhook_dlq_topic: str | None = Field(
        None, description="dead-letter topic for poison records; unset disables it"
    )
    webhook_timeout_s: float = Field(
        5.0, gt=0, le=60, description="total budget per webhook request, seconds"
    )
    webhook_max_in_flight: int = Field(
        256, ge=1, le=100_000, description="records processed at once before fetching pauses"
    )
    webhook_start_from: Literal["latest", "earliest"] = Field(
        "latest", description="where a brand-new consumer group starts: latest or earliest"
    )
    webhook_pacing: Literal["provider", "off"] = Field(
        "provider", description="per-endpoint pacing at the provider's published rate, or off"
    )
    webhook_extra_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="extra allowed webhook hosts, comma separated (*.example.com allowed)"
    )
    webhook_allow_insecure_targets: bool = Field(
        False, description="allow http and any host incl. loopback (tests and demos only)"
    )
    http_port: int = Field(
        8080, ge=0, le=65535, description="port of /metrics, /livez, /readyz (0 picks one)"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="debug, info, warning or error"
    )
    log_format: Literal["json", "console"] = Field("json", description="json or console")

    @field_validator("webhook_extra_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(h.strip().lower() for h in value.split(",") if h.strip())
        return value

    @field_validator(
        "log_level", "webhook_start_from", "webhook_pacing", "log_format", mode="before"
    )
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, str):
            return value.upper() or None
        return value

    @field_validator("webhook_dlq_topic", "webhook_channels_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


def load_settings() -> Settings:
    """Read the environment; a bad value raises ConfigError naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "?"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


def env_help() -> str:
    """One line per environment variable with its default, for `--help`."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, tuple):
            default = ",".join(default) or None
        shown = "unset" if default is None else repr(default) if default == "" else str(default)
        lines.append(f"  {name.upper():<34} {field.description} [default: {shown}]")
    return "\n".join(lines)
