"""The two event contracts the service consumes (ARCHITECTURE.md §2), as pydantic v2 models.

- `AuditEvent`: one row of `audit-log`.
- `SessionEvent`: one lifecycle event of a hosted-auth session on `hosted-auth-sessions`.

Both are forward compatible: unknown fields are ignored. Each field is read from its snake_case
name first, then from its camelCase alias and the extra aliases the contract lists (`timestamp`
for an audit row's `created_at`, `sid` for `session_id`, `url` for `verify_url`).

Timestamps become aware UTC datetimes. A timestamp without an offset is taken as UTC (producers
write UTC; guessing the consumer's local zone would be worse). Every string has an upper bound:
a longer value makes the event invalid (a poison record), it never reaches a message. Metadata
is a free JSON object; its size is bounded only by the record size cap of `consumer.decode`.

`consumer.decode.decode` turns a record value into one of these; build them by hand only in tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

#: Upper bounds of string fields, in characters.
ID_MAX = 256  # ids, tags, roles, modes, sources, actions
NAME_MAX = 256  # display names
EMAIL_MAX = 320  # RFC 5321: 64 (local part) + 1 + 255 (domain)
RESOURCE_MAX = 1024  # a resource can be a path or a URL-like name
TEXT_MAX = 4096  # free text: error, reason
URL_MAX = 2048  # the verify link

Severity = Literal["low", "medium", "high"]
SessionLifecycle = Literal["created", "verified", "failed", "expired", "cancelled"]
SessionStatus = Literal["pending", "verified", "failed", "expired", "cancelled"]
SessionMode = Literal["stepup", "signin", "console"]

# Characters a verify link must not hold: anything that could break out of a chat link's markup
# or hide in it. The backend percent-encodes everything else.
_URL_FORBIDDEN = frozenset(' "<>\\^`{|}')


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 has no UTC equivalent
        raise ValueError("date-time out of range once converted to UTC") from None


def _empty_as_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _https_url(value: str) -> str:
    if any(ch in _URL_FORBIDDEN or not ch.isascii() or not ch.isprintable() for ch in value):
        raise ValueError("must be an https URL without spaces, control or non-ASCII characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise ValueError("must be an https URL") from None
    if parts.scheme != "https" or not host:
        raise ValueError("must be an https URL")
    return value


#: An RFC 3339 date-time, as an aware datetime in UTC.
UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]
#: An https link, kept as text; an empty string counts as absent.
HttpsUrl = Annotated[
    str,
    Field(max_length=URL_MAX, json_schema_extra={"format": "uri", "pattern": "^https://"}),
    AfterValidator(_https_url),
]


class Actor(BaseModel):
    """Who acted. Every part is optional; messages fall back to whatever is known."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    member_id: str | None = Field(
        None,
        max_length=ID_MAX,
        validation_alias=AliasChoices("member_id", "memberId"),
        description="alias: memberId",
    )
    name: str | None = Field(None, max_length=NAME_MAX)
    email: str | None = Field(None, max_length=EMAIL_MAX)
    role: str | None = Field(None, max_length=ID_MAX)


class AuditEvent(BaseModel):
    """One audit row (`audit-log`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1, max_length=ID_MAX, description="audit row id")
    project_id: str = Field(
        min_length=1,
        max_length=ID_MAX,
        validation_alias=AliasChoices("project_id", "projectId"),
        description="owning project (alias: projectId)",
    )
    tag: str = Field(
        min_length=1,
        max_length=ID_MAX,
        description="e.g. billing:refund, guard_gate_decision, mcp:stepup",
    )
    severity: Severity = "low"
    status: bool = Field(True, description="true = success")
    webhook_notification: bool = Field(
        False,
        validation_alias=AliasChoices("webhook_notification", "webhookNotification"),
        description="the SDK's second argument: notify whatever the severity "
        "(alias: webhookNotification)",
    )
    actor: Actor | None = None
    metadata: dict[str, Any] | None = Field(
        None,
        description="free JSON object; for guard rows: decision, resource, action, ruleId, fp",
    )
    error: str | None = Field(None, max_length=TEXT_MAX)
    created_at: UtcDateTime = Field(
        validation_alias=AliasChoices("created_at", "createdAt", "timestamp"),
        description="RFC 3339 date-time; without an offset it is taken as UTC "
        "(aliases: createdAt, timestamp)",
    )


class SessionEvent(BaseModel):
    """One lifecycle event of a hosted-auth session (`hosted-auth-sessions`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    session_id: str = Field(
        min_length=1,
        max_length=ID_MAX,
        validation_alias=AliasChoices("session_id", "sessionId", "sid"),
        description="e.g. tc_stepup_… (aliases: sessionId, sid)",
    )
    project_id: str = Field(
        min_length=1,
        max_length=ID_MAX,
        validation_alias=AliasChoices("project_id", "projectId"),
        description="owning project (alias: projectId)",
    )
    event: SessionLifecycle
    status: SessionStatus
    mode: SessionMode = "stepup"
    source: str | None = Field(
        None, max_length=ID_MAX, description="guard, sdk, console or another producer"
    )
    actor: Actor | None = None
    resource: str | None = Field(None, max_length=RESOURCE_MAX)
    action: str | None = Field(None, max_length=ID_MAX)
    reason: str | None = Field(None, max_length=TEXT_MAX)
    verify_url: Annotated[HttpsUrl | None, BeforeValidator(_empty_as_none)] = Field(
        None,
        validation_alias=AliasChoices("verify_url", "verifyUrl", "url"),
        description="the hosted-auth verify link, https; empty counts as absent "
        "(aliases: verifyUrl, url)",
    )
    expires_at: UtcDateTime | None = Field(
        None,
        validation_alias=AliasChoices("expires_at", "expiresAt"),
        description="RFC 3339 date-time (alias: expiresAt)",
    )
    created_at: UtcDateTime = Field(
        validation_alias=AliasChoices("created_at", "createdAt"),
        description="RFC 3339 date-time; without an offset it is taken as UTC (alias: createdAt)",
    )


#: Any event the service consumes.
Event = AuditEvent | SessionEvent
