"""Record value -> event: the contracts of ARCHITECTURE.md §2 and the poison-record errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumer.decode import MAX_RECORD_BYTES, TopicSchema, decode
from consumer.errors import DecodeError
from consumer.events import TEXT_MAX, AuditEvent, SessionEvent
from tests.support.events import EVENTS_DIR, json_values

AUDIT = {
    "id": "aud_1",
    "project_id": "proj_1",
    "tag": "billing:refund",
    "created_at": "2026-12-04T15:07:12Z",
}
SESSION = {
    "session_id": "tc_stepup_1",
    "project_id": "proj_1",
    "event": "created",
    "status": "pending",
    "created_at": "2026-12-04T15:07:12Z",
}


def dumps(data: object) -> bytes:
    return orjson.dumps(data)


def decode_or_error(schema: TopicSchema, value: bytes) -> AuditEvent | SessionEvent | DecodeError:
    """The event, or the DecodeError raised; any other exception propagates (and fails)."""
    try:
        return decode(schema, value)
    except DecodeError as exc:
        return exc


def test_every_sample_event_decodes() -> None:
    paths = [p for p in sorted(EVENTS_DIR.glob("*.json")) if not p.name.startswith("invalid")]
    assert len(paths) >= 15
    for path in paths:
        value = path.read_bytes()
        schema: TopicSchema = "audit-log" if b'"tag"' in value else "hosted-auth-sessions"
        assert decode(schema, value).project_id == "proj_demo", path.name


def test_an_audit_row_gets_the_contract_defaults() -> None:
    event = decode("audit-log", dumps(AUDIT))
    assert isinstance(event, AuditEvent)
    assert (event.severity, event.status, event.webhook_notification) == ("low", True, False)
    assert (event.actor, event.metadata, event.error) == (None, None, None)


def test_a_session_event_gets_the_contract_defaults() -> None:
    event = decode("hosted-auth-sessions", dumps(SESSION))
    assert isinstance(event, SessionEvent)
    assert (event.mode, event.source, event.verify_url, event.expires_at) == (
        "stepup",
        None,
        None,
        None,
    )


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schema", "alias", "value", "field", "expected"),
    [
        ("audit-log", "projectId", "proj_9", "project_id", "proj_9"),
        ("audit-log", "webhookNotification", True, "webhook_notification", True),
        ("audit-log", "createdAt", "2026-01-01T00:00:00Z", "created_at", T0),
        ("audit-log", "timestamp", "2026-01-01T00:00:00Z", "created_at", T0),
        ("hosted-auth-sessions", "sid", "tc_x", "session_id", "tc_x"),
        ("hosted-auth-sessions", "projectId", "proj_9", "project_id", "proj_9"),
        (
            "hosted-auth-sessions",
            "verifyUrl",
            "https://a.example/v",
            "verify_url",
            "https://a.example/v",
        ),
        ("hosted-auth-sessions", "url", "https://a.example/v", "verify_url", "https://a.example/v"),
        ("hosted-auth-sessions", "expiresAt", "2026-01-01T00:00:00Z", "expires_at", T0),
        ("hosted-auth-sessions", "createdAt", "2026-01-01T00:00:00Z", "created_at", T0),
    ],
    ids=[
        "projectId is project_id",
        "webhookNotification is webhook_notification",
        "createdAt is an audit row's created_at",
        "timestamp is an audit row's created_at",
        "sid is session_id",
        "a session's projectId is project_id",
        "verifyUrl is verify_url",
        "url is verify_url",
        "expiresAt is expires_at",
        "a session's createdAt is created_at",
    ],
)
def test_camel_case_and_listed_aliases_are_accepted(
    schema: TopicSchema, alias: str, value: object, field: str, expected: object
) -> None:
    base = {k: v for k, v in (AUDIT if schema == "audit-log" else SESSION).items() if k != field}
    event = decode(schema, dumps(base | {alias: value}))
    assert getattr(event, field) == expected


def test_the_actor_accepts_member_id_in_camel_case() -> None:
    event = decode("audit-log", dumps(AUDIT | {"actor": {"memberId": "mem_1", "name": "Ada"}}))
    assert isinstance(event, AuditEvent)
    assert event.actor is not None
    assert (event.actor.member_id, event.actor.name, event.actor.email) == ("mem_1", "Ada", None)


def test_unknown_fields_are_ignored() -> None:
    event = decode("audit-log", dumps(AUDIT | {"ip": "10.0.0.1", "actor": {"id": 3, "name": "A"}}))
    assert event.model_dump().keys() == AuditEvent.model_fields.keys()


@pytest.mark.parametrize(
    ("given_time", "expected"),
    [
        ("2026-12-04T15:07:12Z", datetime(2026, 12, 4, 15, 7, 12, tzinfo=UTC)),
        ("2026-12-05T00:07:12+09:00", datetime(2026, 12, 4, 15, 7, 12, tzinfo=UTC)),
        ("2026-12-04T10:07:12.250-05:00", datetime(2026, 12, 4, 15, 7, 12, 250000, tzinfo=UTC)),
        ("2026-12-04T15:07:12", datetime(2026, 12, 4, 15, 7, 12, tzinfo=UTC)),
    ],
    ids=[
        "a Z timestamp stays as it is",
        "an offset is converted to UTC",
        "fractions of a second and a negative offset are kept and converted",
        "a timestamp without offset is taken as UTC",
    ],
)
def test_timestamps_become_aware_utc(given_time: str, expected: datetime) -> None:
    event = decode("audit-log", dumps(AUDIT | {"created_at": given_time}))
    assert event.created_at == expected
    assert event.created_at.utcoffset() == timedelta(0)


def test_an_empty_verify_url_counts_as_absent() -> None:
    event = decode("hosted-auth-sessions", dumps(SESSION | {"verify_url": "  "}))
    assert isinstance(event, SessionEvent)
    assert event.verify_url is None


SECRET_INPUT = "SENTINEL-7c0d1e"


@pytest.mark.parametrize(
    ("schema", "value", "field", "reason_part"),
    [
        ("audit-log", None, "", "empty"),
        ("audit-log", b"", "", "empty"),
        ("audit-log", b"{" + b" " * MAX_RECORD_BYTES + b"}", "", "limit"),
        ("audit-log", b'{"id": "\xff"}', "", "UTF-8"),
        ("audit-log", b'{"id": ', "", "not valid JSON"),
        ("audit-log", b"SENTINEL-7c0d1e", "", "not valid JSON"),
        ("audit-log", b'["SENTINEL-7c0d1e"]', "", "an array"),
        ("audit-log", b'"SENTINEL-7c0d1e"', "", "a string"),
        ("audit-log", b"null", "", "null"),
        (
            "audit-log",
            dumps({k: v for k, v in AUDIT.items() if k != "tag"}),
            "tag",
            "Field required",
        ),
        ("audit-log", dumps(AUDIT | {"id": 12345}), "id", "valid string"),
        (
            "audit-log",
            dumps(AUDIT | {"severity": SECRET_INPUT}),
            "severity",
            "'low', 'medium' or 'high'",
        ),
        ("audit-log", dumps(AUDIT | {"status": SECRET_INPUT}), "status", "boolean"),
        ("audit-log", dumps(AUDIT | {"tag": ""}), "tag", "at least 1"),
        (
            "audit-log",
            dumps(AUDIT | {"error": SECRET_INPUT * 1000}),
            "error",
            f"at most {TEXT_MAX}",
        ),
        (
            "audit-log",
            dumps(AUDIT | {"actor": {"email": SECRET_INPUT * 100}}),
            "actor.email",
            "at most",
        ),
        ("audit-log", dumps(AUDIT | {"actor": SECRET_INPUT}), "actor", "dictionary"),
        ("audit-log", dumps(AUDIT | {"metadata": [SECRET_INPUT]}), "metadata", "dictionary"),
        ("audit-log", dumps(AUDIT | {"created_at": SECRET_INPUT}), "created_at", "datetime"),
        (
            "audit-log",
            dumps(AUDIT | {"created_at": "9999-12-31T23:59:59-01:00"}),
            "created_at",
            "out of range",
        ),
        (
            "hosted-auth-sessions",
            dumps(SESSION | {"event": "opened"}),
            "event",
            "'created', 'verified'",
        ),
        (
            "hosted-auth-sessions",
            dumps(SESSION | {"mode": "sudo"}),
            "mode",
            "'stepup', 'signin' or 'console'",
        ),
        (
            "hosted-auth-sessions",
            dumps(SESSION | {"url": f"http://{SECRET_INPUT}.example/v"}),
            "url",
            "https URL",
        ),
        (
            "hosted-auth-sessions",
            dumps(SESSION | {"verify_url": "https://a.example/v <b>"}),
            "verify_url",
            "https URL",
        ),
        (
            "hosted-auth-sessions",
            dumps(SESSION | {"verify_url": "javascript:alert(1)"}),
            "verify_url",
            "https URL",
        ),
        (
            "hosted-auth-sessions",
            dumps({k: v for k, v in SESSION.items() if k != "status"}),
            "status",
            "Field required",
        ),
    ],
    ids=[
        "a tombstone (no value) is not an event",
        "an empty value is not an event",
        "a value over 1 MiB is refused before parsing",
        "invalid UTF-8 is named as such",
        "truncated JSON is not valid JSON",
        "plain text is not valid JSON",
        "a JSON array is not an event",
        "a JSON string is not an event",
        "JSON null is not an event",
        "a missing required field is named",
        "a number where a string belongs is a wrong type",
        "an unknown severity lists the allowed ones",
        "a status that is not a boolean is named",
        "an empty tag is refused",
        "a too long error text is refused, not truncated",
        "a too long actor email is named by its dotted path",
        "an actor that is not an object is named",
        "metadata that is not an object is named",
        "an unreadable timestamp is named",
        "a timestamp that overflows once in UTC is refused, not a crash",
        "an unknown session event lists the allowed ones",
        "an unknown session mode lists the allowed ones",
        "an http verify link is refused, under the alias it came with",
        "a verify link with spaces or markup is refused",
        "a javascript link is refused",
        "a session without status is named",
    ],
)
def test_invalid_values_raise_one_decode_error_naming_the_field(
    schema: TopicSchema, value: bytes | None, field: str, reason_part: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(schema, value)
    error = caught.value
    assert (error.topic, error.field) == (schema, field)
    assert reason_part in error.reason
    assert SECRET_INPUT not in str(error)
    assert "\n" not in str(error)


def test_json_nested_deeper_than_the_parser_allows_is_not_valid_json() -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        decode("audit-log", b'{"metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}")


def test_deep_but_parseable_metadata_decodes() -> None:
    nested = b'{"k": ' * 500 + b'"leaf"' + b"}" * 500
    event = decode("audit-log", dumps(AUDIT)[:-1] + b', "metadata": ' + nested + b"}")
    assert isinstance(event, AuditEvent)
    assert event.metadata is not None


def test_several_problems_are_counted_after_the_first() -> None:
    with pytest.raises(DecodeError) as caught:
        decode("audit-log", b"{}")
    assert caught.value.field == "id"
    assert caught.value.reason == "Field required (and 3 more problems)"


BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@BOUNDED
@given(schema=st.sampled_from(["audit-log", "hosted-auth-sessions"]), value=st.binary(max_size=300))
def test_any_bytes_give_an_event_or_a_decode_error(schema: TopicSchema, value: bytes) -> None:
    result = decode_or_error(schema, value)
    if isinstance(result, DecodeError):
        assert result.topic == schema
    else:
        assert result.project_id


field_names = st.sampled_from(
    [
        *AUDIT,
        *SESSION,
        "severity",
        "status",
        "actor",
        "metadata",
        "verify_url",
        "url",
        "sid",
        "timestamp",
        "expires_at",
        "mode",
        "event",
        "webhookNotification",
        "error",
        "resource",
    ]
) | st.text(max_size=8)


@BOUNDED
@given(
    schema=st.sampled_from(["audit-log", "hosted-auth-sessions"]),
    base=st.sampled_from([AUDIT, SESSION, {}]),
    changes=st.dictionaries(field_names, json_values, max_size=5),
)
def test_any_json_object_gives_an_event_or_a_one_line_decode_error(
    schema: TopicSchema, base: dict[str, object], changes: dict[str, object]
) -> None:
    result = decode_or_error(schema, dumps(base | changes))
    if isinstance(result, DecodeError):
        assert "\n" not in str(result)
    else:
        assert result.created_at.utcoffset() == timedelta(0)


@BOUNDED
@given(
    moment=st.datetimes(
        timezones=st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-1439, 1439))
    )
)
def test_any_rfc3339_timestamp_decodes_to_utc_or_is_refused(moment: datetime) -> None:
    result = decode_or_error("audit-log", dumps(AUDIT | {"created_at": moment.isoformat()}))
    if isinstance(result, DecodeError):
        assert result.field == "created_at"
    else:
        assert result.created_at == moment
        assert result.created_at.utcoffset() == timedelta(0)
