"""Which events notify: every row of the spec's tables (docs/rules.md), then properties."""

from __future__ import annotations

from typing import Literal

import pytest
from hypothesis import given, settings

from consumer.decode import TopicSchema
from consumer.events import AuditEvent, Event, SessionEvent
from consumer.rules import Decision, decide
from tests.support.events import audit_events, events, load, session_events

Kind = Literal["audit", "session"] | None

SPEC_ROWS: list[tuple[TopicSchema, str, Kind, str]] = [
    (
        "audit-log",
        "guard_stepup_gate_pending",
        None,
        "guard_gate_decision at medium never notifies",
    ),
    ("hosted-auth-sessions", "guard_stepup_session_created", "session", "created pending"),
    ("audit-log", "mcp_stepup_success", "audit", "severity high"),
    ("audit-log", "resource_action_stepup_success", "audit", "severity high"),
    ("audit-log", "mcp_stepup_failure", "audit", "severity high"),
    (
        "audit-log",
        "guard_gate_allow_after_verify",
        None,
        "guard_gate_decision at low never notifies",
    ),
    ("audit-log", "guard_deny_rbac", None, "guard_gate_decision at medium never notifies"),
    (
        "audit-log",
        "guard_deny_stepup_failure",
        None,
        "guard_gate_decision at medium never notifies",
    ),
    ("audit-log", "billing_refund_forced", "audit", "webhookNotification set"),
    ("audit-log", "billing_refund_medium", None, "severity medium without webhookNotification"),
    ("hosted-auth-sessions", "sdk_redirect_stepup_session", "session", "mode stepup, source sdk"),
    ("hosted-auth-sessions", "signin_session", "session", "mode signin"),
    ("hosted-auth-sessions", "console_session", "session", "mode console, source console"),
    (
        "audit-log",
        "guard_gate_medium_with_webhook_flag",
        None,
        "guard_gate_decision at medium never notifies, even with webhookNotification",
    ),
    ("hosted-auth-sessions", "session_verified", None, "session verified"),
    ("hosted-auth-sessions", "session_created_without_url", None, "without a verify URL"),
]


@pytest.mark.parametrize(
    ("schema", "sample", "kind", "reason_part"),
    SPEC_ROWS,
    ids=[
        "guard step-up: the medium deny-stepup-pending gate row sends no audit webhook",
        "guard step-up: its pending session with a verify URL sends the session webhook",
        "MFA completed on mcp:stepup (high, status true) sends the audit webhook",
        "MFA completed on a {resource}:{action} tag (high) sends the audit webhook",
        "MFA failed (high, status false) sends the audit webhook",
        "the verified retry allowed (guard gate at low) sends nothing",
        "an RBAC deny (guard gate deny-rbac-denied at medium) sends nothing",
        "a failed step-up session create (guard gate deny-stepup-failure at medium) sends nothing",
        "billing:refund at medium with webhookNotification sends the audit webhook",
        "billing:refund at medium without webhookNotification sends nothing",
        "SDK redirectToStepUp's pending session sends the session webhook",
        "a signin hosted-auth session sends the session webhook",
        "a console hosted-auth session sends the session webhook",
        "a guard gate row at medium never notifies, even with webhookNotification",
        "a verified session event sends nothing",
        "a created session without a verify URL sends nothing",
    ],
)
def test_the_spec_tables(schema: TopicSchema, sample: str, kind: Kind, reason_part: str) -> None:
    decision = decide(load(schema, sample))
    assert decision == Decision(kind is not None, kind, decision.reason)
    assert reason_part in decision.reason


def audit(**fields: object) -> AuditEvent:
    base = {
        "id": "a1",
        "project_id": "p1",
        "tag": "billing:refund",
        "created_at": "2026-12-04T15:07:12Z",
    }
    return AuditEvent.model_validate(base | fields)


def session(**fields: object) -> SessionEvent:
    base = {
        "session_id": "tc_stepup_1",
        "project_id": "p1",
        "event": "created",
        "status": "pending",
        "verify_url": "https://auth.transcodes.io/verify/x",
        "created_at": "2026-12-04T15:07:12Z",
    }
    return SessionEvent.model_validate(base | fields)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (audit(severity="high"), Decision(True, "audit", "severity high")),
        (
            audit(severity="high", webhook_notification=True),
            Decision(True, "audit", "severity high"),
        ),
        (
            audit(severity="low", webhook_notification=True),
            Decision(True, "audit", "webhookNotification set (severity low)"),
        ),
        (audit(), Decision(False, None, "severity low without webhookNotification")),
        (
            audit(tag="guard_gate_decision", severity="high"),
            Decision(True, "audit", "severity high"),
        ),
        (
            audit(tag="guard_gate_decision", severity="low", webhook_notification=True),
            Decision(
                False,
                None,
                "guard_gate_decision at low never notifies, even with webhookNotification",
            ),
        ),
        (
            session(),
            Decision(True, "session", "session created pending with a verify URL (mode stepup)"),
        ),
        (
            session(status="verified"),
            Decision(False, None, "session created but not pending (status verified)"),
        ),
        (
            session(event="failed", status="failed"),
            Decision(False, None, "session failed: only a created session notifies"),
        ),
        (
            session(event="expired", status="expired"),
            Decision(False, None, "session expired: only a created session notifies"),
        ),
        (
            session(event="cancelled", status="cancelled"),
            Decision(False, None, "session cancelled: only a created session notifies"),
        ),
        (
            session(verify_url=""),
            Decision(False, None, "session created pending without a verify URL"),
        ),
    ],
    ids=[
        "a high row notifies whatever its tag",
        "a high row with the flag gives the severity as the reason",
        "webhookNotification forces a low row",
        "a low row without the flag stays quiet",
        "a guard gate row at high is not excluded",
        "a guard gate row at low stays quiet, flag or not",
        "a created pending session with a link notifies",
        "a created session that is already verified stays quiet",
        "a failed session stays quiet",
        "an expired session stays quiet",
        "a cancelled session stays quiet",
        "a created session with an empty link stays quiet",
    ],
)
def test_decisions_and_their_reasons(event: Event, expected: Decision) -> None:
    assert decide(event) == expected


BOUNDED = settings(max_examples=200, deadline=None)


@BOUNDED
@given(event=events)
def test_decide_answers_for_any_valid_event(event: Event) -> None:
    decision = decide(event)
    assert decision.reason
    assert decision.kind == (
        ("audit" if isinstance(event, AuditEvent) else "session") if decision.fires else None
    )


@BOUNDED
@given(event=audit_events)
def test_an_audit_row_fires_exactly_as_the_spec_says(event: AuditEvent) -> None:
    guard_below_high = event.tag == "guard_gate_decision" and event.severity != "high"
    expected = not guard_below_high and (event.severity == "high" or event.webhook_notification)
    assert decide(event).fires is expected


@BOUNDED
@given(event=session_events)
def test_a_session_fires_exactly_when_created_pending_with_a_link(event: SessionEvent) -> None:
    expected = event.event == "created" and event.status == "pending" and bool(event.verify_url)
    assert decide(event).fires is expected
