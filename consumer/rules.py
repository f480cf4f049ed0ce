"""Event -> Decision: which events notify, and why (ARCHITECTURE.md §1, docs/rules.md).

Pure and total: `decide` answers for every valid event and never raises. The reason is a short
sentence for the logs and for `webhook-consumer explain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from consumer.events import AuditEvent, Event, SessionEvent

#: The tag of the audit row transcodes-guard writes for each hook decision.
GUARD_GATE_TAG: Final = "guard_gate_decision"


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether an event notifies. `kind` is the event's kind when it fires, else None."""

    fires: bool
    kind: Literal["audit", "session"] | None
    reason: str


def decide(event: Event) -> Decision:
    if isinstance(event, AuditEvent):
        return decide_audit(event)
    return decide_session(event)


def decide_audit(event: AuditEvent) -> Decision:
    """High severity or `webhookNotification`; never a guard gate row below high."""
    if event.tag == GUARD_GATE_TAG and event.severity != "high":
        reason = f"{GUARD_GATE_TAG} at {event.severity} never notifies"
        if event.webhook_notification:
            reason += ", even with webhookNotification"
        return Decision(False, None, reason)
    if event.severity == "high":
        return Decision(True, "audit", "severity high")
    if event.webhook_notification:
        return Decision(True, "audit", f"webhookNotification set (severity {event.severity})")
    return Decision(False, None, f"severity {event.severity} without webhookNotification")


def decide_session(event: SessionEvent) -> Decision:
    """A session created pending with a verify URL, whatever its mode or source."""
    if event.event != "created":
        return Decision(False, None, f"session {event.event}: only a created session notifies")
    if event.status != "pending":
        return Decision(False, None, f"session created but not pending (status {event.status})")
    if not event.verify_url:
        return Decision(False, None, "session created pending without a verify URL")
    source = f", source {event.source}" if event.source else ""
    return Decision(
        True, "session", f"session created pending with a verify URL (mode {event.mode}{source})"
    )
