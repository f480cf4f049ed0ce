"""Fuzzing decode + decide + message + every renderer (hypothesis).

Whatever the bytes: `decode` returns an event or raises `DecodeError` (one line, naming no
value) and nothing else; for every event, `decide` answers, and a firing one renders for all five
channel types within every limit, inert, with no forged line (`tests.hardening.reader`) and no
value of a dangerous metadata key. `make test` runs each property with the bounded `hardening`
profile (200 examples); `make fuzz` with the `fuzz` profile (20 000).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumer.decode import TopicSchema
from consumer.errors import DecodeError
from tests.hardening.conftest import FUZZ
from tests.hardening.corpus import (
    _SHELL_SHAPES,
    HOSTILE,
    INJECTIONS,
    POISON,
    audit_row,
    session_event,
)
from tests.hardening.reader import pipeline, problems
from tests.support.events import EVENTS_DIR

SCHEMAS: Final[list[TopicSchema]] = ["audit-log", "hosted-auth-sessions"]
#: In generated values; a decode error must never repeat it.
VALUE_MARK: Final = "FUZZVAL"
#: Under dangerous metadata keys only; no payload may show it.
LEAK_MARK: Final = "FUZZLEAK"

_FRAGMENTS: Final = [i.text for i in INJECTIONS] + [
    "\n",
    "\r\n",
    "\u2028",
    "\x00",
    "\x1b[31m",
    "@",
    "@admin_user",
    "<",
    ">",
    "&",
    "&amp;",
    "*",
    "_",
    "`",
    "|",
    "~",
    "[",
    "](",
    "\\",
    "#",
    "- ",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "Verify: https://evil.example/v",
    VALUE_MARK,
]
hostile_text = st.lists(
    st.sampled_from(_FRAGMENTS) | st.text(max_size=12), min_size=1, max_size=10
).map("".join)
huge_text = st.builds(lambda t, n: t * n, hostile_text, st.integers(1, 2000))
any_text = st.one_of(hostile_text, hostile_text, huge_text)

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(hostile_text, inner, max_size=5),
    max_leaves=30,
)
leaky = st.sampled_from(_SHELL_SHAPES).map(lambda shape: shape[1](f"{LEAK_MARK} rm -rf /"))
metadata = st.builds(
    lambda safe, leak: {**safe, **leak},
    st.dictionaries(hostile_text, json_values, max_size=15),
    st.none().map(lambda _: {}) | leaky,
)
actors = st.none() | st.fixed_dictionaries(
    {}, optional={k: st.none() | any_text for k in ("member_id", "name", "email", "role")}
)


@st.composite
def audit_rows(draw: st.DrawFn) -> dict[str, Any]:
    row = audit_row("proj_fuzz")
    row["tag"] = draw(hostile_text | st.sampled_from(["mcp:stepup", "guard_gate_decision"]))
    row["severity"] = draw(st.sampled_from(["low", "medium", "high"]))
    row["webhook_notification"] = draw(st.booleans())
    row["status"] = draw(st.booleans())
    row["actor"] = draw(actors)
    row["metadata"] = draw(st.none() | metadata)
    return row


@st.composite
def session_rows(draw: st.DrawFn) -> dict[str, Any]:
    row = session_event("proj_fuzz")
    for key in ("resource", "action", "reason", "source"):
        row[key] = draw(st.none() | any_text)
    row["actor"] = draw(actors)
    row["mode"] = draw(st.sampled_from(["stepup", "signin", "console"]))
    tail = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~/?=&%", max_size=1500))
    row["verify_url"] = draw(st.sampled_from(["", None, f"https://auth.example/v/{tail}"]))
    return row


def samples() -> list[bytes]:
    """Valid and poison records to mutate: the spec's scenarios and the corpora."""
    found = [p.read_bytes() for p in sorted(Path(EVENTS_DIR).glob("*.json"))]
    for case in [*POISON, *HOSTILE]:
        value = case.build("proj_fuzz")
        if value is not None and len(value) < 64 * 1024:
            found.append(value)
    return found


SAMPLES: Final = samples()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        how = draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
        if how == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif how == "delete" and data:
            del data[at : at + draw(st.integers(1, 16))]
        else:
            data[at:at] = draw(st.sampled_from(_FRAGMENTS)).encode()
    return bytes(data)


def check(schema: TopicSchema, value: bytes) -> None:
    """The property: an event rendered cleanly everywhere, or one safe `DecodeError`."""
    try:
        rendered = pipeline(schema, value)
    except DecodeError as exc:
        message = str(exc)
        assert "\n" not in message
        assert VALUE_MARK not in message
        assert LEAK_MARK not in message
        return
    assert rendered.decision.reason
    if rendered.notification is None:
        assert not rendered.decision.fires
        return
    assert LEAK_MARK not in rendered.notification.text()
    for channel_type, body in rendered.bodies.items():
        assert problems(channel_type, body, rendered.notification) == [], channel_type.value
        assert LEAK_MARK not in orjson.dumps(body).decode()


@pytest.mark.parametrize("schema", SCHEMAS)
@FUZZ
@given(value=st.binary(max_size=2048))
def test_fuzz_any_bytes(schema: TopicSchema, value: bytes) -> None:
    check(schema, value)


@pytest.mark.parametrize("schema", SCHEMAS)
@FUZZ
@given(value=mutated())
def test_fuzz_mutated_records(schema: TopicSchema, value: bytes) -> None:
    check(schema, value)


@pytest.mark.parametrize("schema", SCHEMAS)
@FUZZ
@given(value=json_values)
def test_fuzz_any_json_value(schema: TopicSchema, value: object) -> None:
    check(schema, orjson.dumps(value))


@FUZZ
@given(row=audit_rows())
def test_fuzz_hostile_audit_rows(row: dict[str, Any]) -> None:
    check("audit-log", orjson.dumps(row))


@FUZZ
@given(row=session_rows())
def test_fuzz_hostile_session_events(row: dict[str, Any]) -> None:
    check("hosted-auth-sessions", orjson.dumps(row))


@FUZZ
@given(
    row=audit_rows() | session_rows(),
    key=st.sampled_from(sorted(set(audit_row("p")) | set(session_event("p")))),
    value=json_values,
)
def test_fuzz_one_field_of_the_wrong_kind(row: dict[str, Any], key: str, value: object) -> None:
    schema: TopicSchema = "audit-log" if "tag" in row else "hosted-auth-sessions"
    check(schema, orjson.dumps({**row, key: value}))
