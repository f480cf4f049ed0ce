"""The common message text (ARCHITECTURE.md §3): exact shapes, cleaning and metadata safety."""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.events import Actor, AuditEvent, SessionEvent
from consumer.message import (
    DANGEROUS_KEYS,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX,
    build_notification,
    clean_inline,
    format_actor,
    format_metadata,
    is_dangerous_key,
    test_notification,
)
from consumer.notification import Field, Notification
from consumer.rules import decide
from tests.support.events import audit, audit_dicts, json_values, session

# --- exact texts of the spec's scenarios ---


def test_the_mfa_success_audit_text() -> None:
    assert build_notification(audit("mcp_stepup_success")).text() == (
        "[Audit] mcp:stepup\n"
        "Status: success\n"
        "Severity: high\n"
        "Actor: Ada Park <ada@example.com>\n"
        "Role: developer\n"
        "Time: 2026-12-04T15:07:42Z\n"
        "Metadata: resource=prod-db, action=migrate, ruleId=rule_prod_writes, fp=sha256:9c1f0e"
    )


def test_the_mfa_failure_audit_says_failure() -> None:
    notification = build_notification(audit("mcp_stepup_failure"))
    assert notification.lines()[0] == "Status: failure"
    assert notification.success is False
    assert notification.severity == "high"


def test_the_forced_refund_audit_text_converts_the_time_to_utc() -> None:
    notification = build_notification(audit("billing_refund_forced"))
    assert notification == Notification(
        kind="audit",
        project_id="proj_demo",
        event_id="aud_01HREFUND",
        title="[Audit] billing:refund",
        fields=(
            Field("Status", "success"),
            Field("Severity", "medium"),
            Field("Actor", "Sam Ortiz <sam@example.com>"),
            Field("Role", "billing-admin"),
            Field("Time", "2026-12-04T07:20:05Z"),
            Field("Metadata", "orderId=ord_5521, amount=49.5, currency=USD"),
        ),
        severity="medium",
        success=True,
    )


def test_an_audit_without_actor_or_metadata_says_unknown_and_omits_metadata() -> None:
    event = AuditEvent.model_validate(
        {"id": "a", "project_id": "p", "tag": "t", "created_at": "2026-12-04T15:07:12.999Z"}
    )
    assert build_notification(event).text() == (
        "[Audit] t\nStatus: success\nSeverity: low\nActor: unknown\nRole: unknown\n"
        "Time: 2026-12-04T15:07:12Z"
    )


def test_the_guard_step_up_session_text() -> None:
    notification = build_notification(session("guard_stepup_session_created"))
    assert notification.text() == (
        "[Step-up] Re-authentication requested\n"
        "Actor: Ada Park <ada@example.com>\n"
        "Resource: prod-db / Action: migrate / Reason: rule_prod_writes requires step-up\n"
        "Verify: https://auth.transcodes.io/verify/tc_stepup_01HSESSGUARD\n"
        "Expires: 2026-12-04T15:12:10Z"
    )
    assert notification.kind == "session"
    assert notification.event_id == "tc_stepup_01HSESSGUARD"
    assert notification.project_id == "proj_demo"
    assert notification.verify_url == "https://auth.transcodes.io/verify/tc_stepup_01HSESSGUARD"
    assert (notification.severity, notification.success) == (None, None)


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (
            "signin_session",
            "[Step-up] Re-authentication requested\n"
            "Actor: new.user@example.com\n"
            "Verify: https://auth.transcodes.io/verify/tc_signin_01HSESSSIGNIN\n"
            "Expires: 2026-12-04T15:20:00Z",
        ),
        (
            "console_session",
            "[Step-up] Re-authentication requested\n"
            "Actor: Root Admin (mem_0001)\n"
            "Reason: console sign-in\n"
            "Verify: https://auth.transcodes.io/verify/tc_console_01HSESSCONSOLE",
        ),
        (
            "sdk_redirect_stepup_session",
            "[Step-up] Re-authentication requested\n"
            "Actor: Sam Ortiz <sam@example.com>\n"
            "Resource: billing / Action: refund\n"
            "Verify: https://auth.transcodes.io/verify/tc_stepup_01HSESSSDK\n"
            "Expires: 2026-12-04T07:25:05Z",
        ),
    ],
    ids=[
        "a signin session without context and with only an email",
        "a console session with only a reason and no expiry",
        "an SDK step-up with resource and action on one line",
    ],
)
def test_session_texts_show_each_optional_line_only_when_present(
    sample: str, expected: str
) -> None:
    assert build_notification(session(sample)).text() == expected


def test_a_session_without_link_still_gets_a_message_without_verify_line() -> None:
    notification = build_notification(session("session_created_without_url"))
    assert notification.verify_url is None
    assert [f.label for f in notification.fields] == ["Actor"]


def test_the_test_message_is_a_high_audit_with_the_test_tag() -> None:
    now = datetime(2026, 12, 4, 15, 7, 12, 500000, tzinfo=UTC)
    notification = test_notification("proj_demo", now=now)
    assert notification.kind == "test"
    assert (notification.severity, notification.success) == ("high", True)
    assert notification.project_id == "proj_demo"
    assert notification.text() == (
        "[Audit] webhook:test\nStatus: success\nSeverity: high\nActor: Transcodes webhook test\n"
        "Role: unknown\nTime: 2026-12-04T15:07:12Z"
    )


def test_the_test_message_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    time_field = next(f for f in test_notification("p").fields if f.label == "Time")
    stamped = datetime.fromisoformat(time_field.value)
    assert before <= stamped <= datetime.now(UTC)


# --- actor ---


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (Actor(name="Ada", email="ada@x.io", member_id="m1"), "Ada <ada@x.io>"),
        (Actor(name="Ada"), "Ada"),
        (Actor(email="ada@x.io", member_id="m1"), "ada@x.io"),
        (Actor(member_id="m1"), "m1"),
        (Actor(name="Ada", member_id="m1"), "Ada (m1)"),
        (Actor(), "unknown"),
        (None, "unknown"),
        (Actor(name="  ", email="\u200b"), "unknown"),
        (Actor(name="Ada\n<b>Lovelace</b>\u202e"), "Ada <b>Lovelace</b>"),
    ],
    ids=[
        "name and email: Name <email>",
        "name only: the name",
        "email and member id: the email",
        "member id only: the member id",
        "name and member id: Name (member id)",
        "an empty actor: unknown",
        "no actor: unknown",
        "blank and invisible parts count as absent",
        "a name is cleaned to one line (renderers escape the markup)",
    ],
)
def test_the_actor_falls_back_to_what_is_known(actor: Actor | None, expected: str) -> None:
    assert format_actor(actor) == expected


# --- clean_inline ---


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("plain", 10, "plain"),
        ("a\r\nb\tc\x00d\x1be", 20, "a b c d e"),
        ("  lots   of\n\n space  ", 30, "lots of space"),
        ("pay\u202eusd\u2066x\u2069", 20, "payusdx"),
        ("zero\u200bwidth\ufeff soft\u00adhyphen", 30, "zerowidth softhyphen"),
        ("line\u2028para\u2029end\x85", 30, "line para end"),
        ("abcdefghij", 5, "abcd…"),
        ("abcde", 5, "abcde"),
        ("abc  defgh", 5, "abc…"),
        ("x" * 10_000, 3, "xx…"),
        ("\ud800lone", 10, "\ufffdlone"),
    ],
    ids=[
        "plain text is unchanged",
        "CR, LF, tab and other control characters become spaces",
        "whitespace runs collapse and the ends are trimmed",
        "bidi overrides and isolates are removed",
        "zero-width characters, BOM and soft hyphens are removed",
        "Unicode line and paragraph separators become spaces",
        "a long text is cut with an ellipsis counted in the limit",
        "a text exactly at the limit is not cut",
        "no space is left before the ellipsis",
        "a huge text is cut without being scanned whole",
        "a lone surrogate becomes the replacement character",
    ],
)
def test_clean_inline(text: str, limit: int, expected: str) -> None:
    assert clean_inline(text, limit) == expected


def test_every_format_character_of_this_python_is_removed() -> None:
    format_chars = [
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"
    ]
    assert len(format_chars) > 100
    assert clean_inline("a" + "".join(format_chars) + "b", len(format_chars)) == "ab"


@settings(max_examples=200, deadline=None)
@given(text=st.text(), limit=st.integers(1, 300))
def test_clean_inline_gives_one_bounded_visible_line(text: str, limit: int) -> None:
    cleaned = clean_inline(text, limit)
    assert len(cleaned) <= limit
    assert cleaned == cleaned.strip()
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in cleaned)


# --- metadata safety ---


@pytest.mark.parametrize(
    "key",
    [
        *sorted(DANGEROUS_KEYS),
        "Command",
        "CMD",
        "rawCommand",
        "shell_cmd",
        "x-authorization",
        "Set-Cookie",
        "api_token",
        "accessToken",
        "db_password",
        "clientSecret",
        "passwd",
        "aws_credentials",
        "apiKey",
        "private_key",
        "argv0",
        "RAWCOMMAND",
        "shellLine",
        "sh\u200bell",
        "to\u2060ken",
        "script_body",
        "cmdline",
        "CMDLINE",
        "rawcmd",
    ],
)
def test_dangerous_keys_are_recognized(key: str) -> None:
    assert is_dangerous_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "decision",
        "resource",
        "action",
        "ruleId",
        "fp",
        "withdrawal",
        "orderId",
        "drawer",
        "rawness",
    ],
)
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not is_dangerous_key(key)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (None, ""),
        ({}, ""),
        ({"command": "rm -rf /", "token": "t"}, ""),
        ({"decision": "allow", "Shell": "bash -c x"}, "decision=allow"),
        (
            {
                "ctx": {
                    "cwd": "/srv",
                    "argv": ["rm", "-rf"],
                    "env": {"API_TOKEN": "t", "HOME": "/h"},
                }
            },
            "ctx.cwd=/srv, ctx.env.HOME=/h",
        ),
        ({"a": {"b": {"c": {"d": 1}}}}, "a.b.c={…}"),
        (
            {"list": [1, "two", None, True, {"cmd": "x"}, [1], 7]},
            "list=[1, two, null, true, {…}, +2 more]",
        ),
        ({"empty": {}, "none": [], "f": 1.5}, "empty={}, none=[], f=1.5"),
        ({"v": "x" * 500}, "v=" + "x" * (METADATA_VALUE_MAX - 1) + "…"),
        ({"k\n=,": "v\r\nw"}, "k __=v w"),
        (
            {f"k{i}": i for i in range(METADATA_MAX_KEYS + 3)},
            ", ".join(f"k{i}={i}" for i in range(METADATA_MAX_KEYS)) + ", +3 more",
        ),
    ],
    ids=[
        "no metadata: nothing",
        "empty metadata: nothing",
        "only dangerous keys: nothing",
        "a dangerous key is dropped whatever its case",
        "dangerous keys are dropped at any depth; nested keys become dotted",
        "objects deeper than the bound are summarized",
        "lists are compact and bounded; objects inside lists are never expanded",
        "empty containers and numbers are shown plainly",
        "long values are truncated",
        "keys are cleaned and cannot pose as extra pairs",
        "at most the bounded number of keys, then how many more",
    ],
)
def test_metadata_is_filtered_flattened_and_bounded(
    metadata: dict[str, Any] | None, expected: str
) -> None:
    assert format_metadata(metadata) == expected


SENTINEL = "DROPPED-VALUE-SENTINEL"
dangerous_names = st.sampled_from(sorted(DANGEROUS_KEYS)) | st.builds(
    lambda prefix, word, upper: prefix + (word.capitalize() if upper else "_" + word),
    st.sampled_from(["api", "raw", "x", "my"]),
    st.sampled_from(["token", "password", "secret", "command", "cmd", "cookie"]),
    st.booleans(),
)
dangerous_values = st.builds(lambda n: f"{SENTINEL}{n}", st.integers(0, 9)) | st.builds(
    lambda n: {"inner": f"{SENTINEL}{n}", "list": [f"{SENTINEL}{n}"]}, st.integers(0, 9)
)
metadata_with_secrets = st.recursive(
    st.dictionaries(dangerous_names, dangerous_values, min_size=1, max_size=3),
    lambda inner: st.dictionaries(
        st.text(alphabet="abcdefgh", min_size=1, max_size=6),
        inner | json_values,
        min_size=1,
        max_size=4,
    ).flatmap(
        lambda safe: st.dictionaries(dangerous_names, dangerous_values, max_size=2).map(
            lambda bad: safe | bad
        )
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(row=audit_dicts(metadata=metadata_with_secrets))
def test_no_dropped_key_value_ever_appears_in_a_text(row: dict[str, Any]) -> None:
    text = build_notification(AuditEvent.model_validate(row)).text()
    assert SENTINEL not in text


@settings(max_examples=200, deadline=None)
@given(
    row=audit_dicts(
        tags=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_:-./", min_size=1, max_size=256)
    )
)
def test_the_text_of_a_fired_audit_event_starts_with_its_tag(row: dict[str, Any]) -> None:
    event = AuditEvent.model_validate(row | {"severity": "high"})
    assert decide(event).fires
    assert build_notification(event).text().startswith(f"[Audit] {event.tag}\n")


@settings(max_examples=200, deadline=None)
@given(row=audit_dicts())
def test_any_audit_text_has_the_spec_lines_in_order_and_no_control_characters(
    row: dict[str, Any],
) -> None:
    text = build_notification(AuditEvent.model_validate(row)).text()
    lines = text.split("\n")
    assert lines[0].startswith("[Audit] ")
    assert [line.split(":", 1)[0] for line in lines[1:6]] == [
        "Status",
        "Severity",
        "Actor",
        "Role",
        "Time",
    ]
    assert len(lines) in (6, 7)
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text.replace("\n", ""))


def test_a_huge_metadata_value_is_truncated_without_being_read_whole() -> None:
    event = audit("mcp_stepup_success").model_copy(update={"metadata": {"blob": "y" * 900_000}})
    line = build_notification(event).lines()[-1]
    assert line == "Metadata: blob=" + "y" * (METADATA_VALUE_MAX - 1) + "…"


def test_a_session_message_cleans_its_context() -> None:
    event = SessionEvent.model_validate(
        {
            "sid": "s",
            "projectId": "p",
            "event": "created",
            "status": "pending",
            "resource": "db\nAction: fake",
            "reason": "\u202eevil",
            "url": "https://auth.transcodes.io/v",
            "createdAt": "2026-12-04T15:07:12Z",
        }
    )
    assert build_notification(event).lines()[1] == "Resource: db Action: fake / Reason: evil"
