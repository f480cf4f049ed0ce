"""Event -> Notification: the common message text of ARCHITECTURE.md §3, cleaned for chat.

Everything that comes from an event passes `clean_inline` (one line, no control, zero-width or
bidi characters, bounded length) before it reaches a Notification. Metadata is shown only after
`metadata_pairs` has dropped every key that can carry raw shell text or a secret, at any depth;
what is left is flattened to dotted keys, truncated, and capped at `METADATA_MAX_KEYS` keys.
Renderers then only escape for their own markup.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

from consumer.events import ID_MAX, Actor, AuditEvent, Event, SessionEvent
from consumer.notification import Field, Notification

#: Length caps of shown values, in characters (the channel renderers cap again for their limits).
TAG_MAX: Final = ID_MAX  # a valid tag is never cut
ACTOR_PART_MAX: Final = 120
ROLE_MAX: Final = 80
RESOURCE_MAX: Final = 300
ACTION_MAX: Final = 120
REASON_MAX: Final = 500
URL_MAX: Final = 2048  # never cut in practice: the event model already caps the verify link

#: Metadata display bounds.
METADATA_MAX_KEYS: Final = 12
METADATA_MAX_DEPTH: Final = 3  # objects nested deeper are shown as "{…}"
METADATA_KEY_MAX: Final = 60
METADATA_VALUE_MAX: Final = 120
METADATA_LIST_MAX_ITEMS: Final = 5
#: Metadata keys repeat from event to event: the verdict on a key and its cleaned form are
#: cached for this many distinct keys of at most KEY_CACHE_MAX_LEN characters (memory stays
#: bounded whatever the events hold). Profiling (docs/BENCHMARKS.md) found the key checks to be
#: a third of the cost of building an audit notification.
KEY_CACHE_SIZE: Final = 4096
KEY_CACHE_MAX_LEN: Final = 256

#: Metadata keys dropped wherever they appear (compared case-insensitively, also as one word of
#: a compound key: `rawCommand`, `shell_cmd`, `x-authorization`). ARCHITECTURE.md §3.
DANGEROUS_KEYS: Final = frozenset(
    {
        "command",
        "cmd",
        "shell",
        "raw",
        "argv",
        "args",
        "script",
        "stdin",
        "password",
        "secret",
        "token",
        "authorization",
        "cookie",
    }
)
#: Keys containing any of these anywhere (ignoring case and separators) are dropped too:
#: `api_token`, `accessToken`, `passwd`, `RAWCOMMAND`, `shellLine`, `cmdline`, `rawcmd`.
#: (Not `script`: `description`; not `raw`: `drawer`.)
DANGEROUS_KEY_PARTS: Final = (
    "command",
    "cmd",
    "shell",
    "argv",
    "stdin",
    "password",
    "passwd",
    "secret",
    "token",
    "cookie",
    "authorization",
    "credential",
    "apikey",
    "privatekey",
)

TEST_TAG: Final = "webhook:test"
TEST_ACTOR: Final = "Transcodes webhook test"

ELLIPSIS: Final = "…"

# Format characters (Unicode category Cf): zero-width, bidi controls and overrides, soft hyphen,
# invisible operators, tag characters. They can hide or reorder text, so they are removed.
# tests/test_message.py checks this class against `unicodedata` for every code point.
_FORMAT_CHARS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# Control characters, line and paragraph separators and any whitespace run: one space.
_SPACES = re.compile("[\\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SURROGATES = re.compile("[\ud800-\udfff]")
_KEY_WORDS = re.compile(r"[a-z]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def clean_inline(text: str, limit: int) -> str:
    """One line of at most `limit` characters, safe to show: see the module docstring.

    A cut is marked with "…" (counted in `limit`).
    """
    head = text[: limit * 4 + 16]  # bounds the work on huge values; a cut is still marked
    cut = len(head) < len(text)
    head = _FORMAT_CHARS.sub("", head)
    head = _SURROGATES.sub("\ufffd", head)
    head = _SPACES.sub(" ", head).strip()
    if len(head) > limit or cut:
        head = head[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return head


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second: `2026-12-04T15:07:12Z`."""
    utc = value.astimezone(UTC) if value.tzinfo is not None else value
    return utc.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def format_actor(actor: Actor | None) -> str:
    """`Name <email>`, `Name (member id)`, `Name`, `email`, `member id`, or `unknown`."""
    if actor is None:
        return "unknown"
    name = clean_inline(actor.name or "", ACTOR_PART_MAX)
    email = clean_inline(actor.email or "", ACTOR_PART_MAX)
    member = clean_inline(actor.member_id or "", ACTOR_PART_MAX)
    if name and email:
        return f"{name} <{email}>"
    if name and member:
        return f"{name} ({member})"
    return name or email or member or "unknown"


def is_dangerous_key(key: str) -> bool:
    """True when a metadata key may carry raw shell text or a secret (ARCHITECTURE.md §3)."""
    visible = _FORMAT_CHARS.sub("", key)  # "pass\u200bword" is still "password"
    squashed = "".join(ch for ch in visible.lower() if ch.isalnum())
    if any(part in squashed for part in DANGEROUS_KEY_PARTS):
        return True
    words = _KEY_WORDS.findall(_CAMEL_BOUNDARY.sub(" ", visible).lower())
    return any(word in DANGEROUS_KEYS for word in words)


def metadata_pairs(metadata: Mapping[str, Any] | None) -> tuple[list[tuple[str, str]], int]:
    """The metadata pairs to show (at most METADATA_MAX_KEYS) and how many more were left out."""
    shown: list[tuple[str, str]] = []
    more = 0
    for key, value in _flatten(metadata or {}, "", 1):
        if len(shown) < METADATA_MAX_KEYS:
            shown.append((key, value))
        else:
            more += 1
    return shown, more


def format_metadata(metadata: Mapping[str, Any] | None) -> str:
    """`k=v, k2=v2, +N more`, or "" when nothing is left to show."""
    shown, more = metadata_pairs(metadata)
    text = ", ".join(f"{key}={value}" for key, value in shown)
    if more:
        text += f", +{more} more"
    return text


def build_notification(event: Event) -> Notification:
    """The message for an event. Meant for events that fire, but answers for any."""
    if isinstance(event, AuditEvent):
        return _audit(event)
    return _session(event)


def test_notification(
    project_id: str,
    now: datetime | None = None,  # noqa: PT028  # the send-test message, not a pytest test
) -> Notification:
    """The test message of `send-test`: an audit notification `[Audit] webhook:test`, high."""
    when = now or datetime.now(UTC)
    event = AuditEvent.model_validate(
        {
            "id": f"webhook-test-{int(when.timestamp())}",
            "project_id": project_id,
            "tag": TEST_TAG,
            "severity": "high",
            "status": True,
            "actor": {"name": TEST_ACTOR},
            "created_at": when,
        }
    )
    return replace(_audit(event), kind="test")


test_notification.__test__ = False  # type: ignore[attr-defined]  # pytest must not collect it


def _audit(event: AuditEvent) -> Notification:
    role = event.actor.role if event.actor else None
    fields = [
        Field("Status", "success" if event.status else "failure"),
        Field("Severity", event.severity),
        Field("Actor", format_actor(event.actor)),
        Field("Role", clean_inline(role or "", ROLE_MAX) or "unknown"),
        Field("Time", format_time(event.created_at)),
    ]
    metadata = format_metadata(event.metadata)
    if metadata:
        fields.append(Field("Metadata", metadata))
    return Notification(
        kind="audit",
        project_id=event.project_id,
        event_id=event.id,
        title=f"[Audit] {clean_inline(event.tag, TAG_MAX)}",
        fields=tuple(fields),
        severity=event.severity,
        success=event.status,
    )


def _session(event: SessionEvent) -> Notification:
    fields = [Field("Actor", format_actor(event.actor))]
    context = (
        ("Resource", event.resource, RESOURCE_MAX),
        ("Action", event.action, ACTION_MAX),
        ("Reason", event.reason, REASON_MAX),
    )
    joined = False
    for label, raw, limit in context:
        value = clean_inline(raw or "", limit)
        if value:
            fields.append(Field(label, value, same_line=joined))
            joined = True
    verify_url = clean_inline(event.verify_url, URL_MAX) if event.verify_url else None
    if verify_url:
        fields.append(Field("Verify", verify_url))
    if event.expires_at is not None:
        fields.append(Field("Expires", format_time(event.expires_at)))
    return Notification(
        kind="session",
        project_id=event.project_id,
        event_id=event.session_id,
        title="[Step-up] Re-authentication requested",
        fields=tuple(fields),
        verify_url=verify_url,
    )


def _flatten(obj: Mapping[str, Any], prefix: str, depth: int) -> Iterator[tuple[str, str]]:
    """Safe leaf pairs of a metadata object, depth first, in the object's key order."""
    for raw_key, value in obj.items():
        key = str(raw_key)
        dangerous, cleaned = _judge_key(key)
        if dangerous:
            continue
        name = prefix + cleaned
        if isinstance(value, Mapping) and value:
            if depth < METADATA_MAX_DEPTH:
                yield from _flatten(value, name + ".", depth + 1)
            else:
                yield name, "{…}"
        else:
            yield name, _format_value(value)


def _judge_key(key: str) -> tuple[bool, str]:
    """(whether the key is dangerous, its cleaned form); cached for keys of ordinary length."""
    if len(key) <= KEY_CACHE_MAX_LEN:
        return _judge_key_cached(key)
    return is_dangerous_key(key), _clean_key(key)


@functools.lru_cache(maxsize=KEY_CACHE_SIZE)
def _judge_key_cached(key: str) -> tuple[bool, str]:
    return is_dangerous_key(key), _clean_key(key)


def _clean_key(key: str) -> str:
    # "=" and "," would let a key pose as several pairs in "k=v, k2=v2".
    return clean_inline(key.replace("=", "_").replace(",", "_"), METADATA_KEY_MAX) or "_"


def _format_value(value: object) -> str:
    if isinstance(value, list):
        items = [_format_scalar(item) for item in value[:METADATA_LIST_MAX_ITEMS]]
        if len(value) > METADATA_LIST_MAX_ITEMS:
            items.append(f"+{len(value) - METADATA_LIST_MAX_ITEMS} more")
        return clean_inline("[" + ", ".join(items) + "]", METADATA_VALUE_MAX)
    return _format_scalar(value)


def _format_scalar(value: object) -> str:
    if isinstance(value, Mapping):
        return "{…}" if value else "{}"  # objects inside lists are never expanded
    if isinstance(value, list):
        return "[…]" if value else "[]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean_inline(str(value), METADATA_VALUE_MAX)
