"""The spec's scenarios as sample events (tests/data/events/*.json), and hypothesis strategies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from consumer.decode import TopicSchema, decode
from consumer.events import AuditEvent, SessionEvent

EVENTS_DIR = Path(__file__).resolve().parent.parent / "data" / "events"


def event_path(name: str) -> Path:
    return EVENTS_DIR / f"{name}.json"


def event_bytes(name: str) -> bytes:
    return event_path(name).read_bytes()


def audit(name: str) -> AuditEvent:
    event = decode("audit-log", event_bytes(name))
    assert isinstance(event, AuditEvent)
    return event


def session(name: str) -> SessionEvent:
    event = decode("hosted-auth-sessions", event_bytes(name))
    assert isinstance(event, SessionEvent)
    return event


def load(schema: TopicSchema, name: str) -> AuditEvent | SessionEvent:
    return decode(schema, event_bytes(name))


# --- hypothesis strategies for valid events (as dicts, through the models' own validation) ---

text = st.text(max_size=60)
maybe_text = st.none() | text
times = st.datetimes(
    min_value=datetime(1970, 1, 2),  # naive bounds: hypothesis draws the zone
    max_value=datetime(9000, 1, 1),
    timezones=st.none()
    | st.just(UTC)
    | st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-840, 840)),
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
actors = st.none() | st.fixed_dictionaries(
    {},
    optional={"member_id": maybe_text, "name": maybe_text, "email": maybe_text, "role": maybe_text},
)


known_tags = st.sampled_from(
    ["guard_gate_decision", "mcp:stepup", "billing:refund", "webhook:test"]
)
metadata_objects = st.none() | st.dictionaries(st.text(max_size=12), json_values, max_size=6)


def audit_dicts(
    tags: st.SearchStrategy[str] | None = None,
    metadata: st.SearchStrategy[Any] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid audit rows as dicts; `tags` and `metadata` replace the default strategies."""
    return st.fixed_dictionaries(
        {
            "id": st.text(min_size=1, max_size=40),
            "project_id": st.text(min_size=1, max_size=40),
            "tag": known_tags | st.text(min_size=1, max_size=60) if tags is None else tags,
            "created_at": times,
        },
        optional={
            "severity": st.sampled_from(["low", "medium", "high"]),
            "status": st.booleans(),
            "webhook_notification": st.booleans(),
            "actor": actors,
            "metadata": metadata_objects if metadata is None else metadata,
            "error": maybe_text,
        },
    )


verify_urls = (
    st.none()
    | st.just("")
    | st.builds(
        lambda path: f"https://auth.transcodes.io/verify/{path}",
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", max_size=30),
    )
)

session_dicts = st.fixed_dictionaries(
    {
        "session_id": st.text(min_size=1, max_size=40),
        "project_id": st.text(min_size=1, max_size=40),
        "event": st.sampled_from(["created", "verified", "failed", "expired", "cancelled"]),
        "status": st.sampled_from(["pending", "verified", "failed", "expired", "cancelled"]),
        "created_at": times,
    },
    optional={
        "mode": st.sampled_from(["stepup", "signin", "console"]),
        "source": st.none() | st.sampled_from(["guard", "sdk", "console"]) | text,
        "actor": actors,
        "resource": maybe_text,
        "action": maybe_text,
        "reason": maybe_text,
        "verify_url": verify_urls,
        "expires_at": st.none() | times,
    },
)

audit_events = audit_dicts().map(AuditEvent.model_validate)
session_events = session_dicts.map(SessionEvent.model_validate)
events = audit_events | session_events
