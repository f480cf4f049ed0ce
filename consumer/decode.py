"""Record value -> Event: the pure decode stage (ARCHITECTURE.md §1, §2).

`decode(schema, value)` either returns a valid event or raises `DecodeError` naming the field and
the reason; it raises nothing else, whatever the bytes. The error never carries the raw value:
pydantic's own messages are used without their `input` part, and JSON errors say only where.

`schema` is the contract the record follows (the default topic names); the runtime maps its
configured topic names onto these.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import orjson
from pydantic import ValidationError

from consumer.errors import DecodeError
from consumer.events import AuditEvent, Event, SessionEvent

TopicSchema = Literal["audit-log", "hosted-auth-sessions"]

#: The largest record value decoded (Kafka's default `max.message.bytes` is about 1 MiB too).
MAX_RECORD_BYTES: Final = 1024 * 1024
#: A field path in an error is cut to this many characters.
FIELD_PATH_MAX: Final = 200

MODELS: Final[dict[TopicSchema, type[AuditEvent] | type[SessionEvent]]] = {
    "audit-log": AuditEvent,
    "hosted-auth-sessions": SessionEvent,
}


def decode(schema: TopicSchema, value: bytes | None) -> Event:
    """Parse and validate one record value of the topic contract `schema`."""
    model = MODELS[schema]
    if not value:
        raise DecodeError(schema, "", "empty value")
    if len(value) > MAX_RECORD_BYTES:
        raise DecodeError(
            schema, "", f"{len(value)} bytes is more than the {MAX_RECORD_BYTES}-byte limit"
        )
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(schema, "", f"not valid UTF-8 (byte {exc.start})") from None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(
            schema, "", f"not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise DecodeError(schema, "", f"expected a JSON object, got {_json_kind(data)}")
    return _validate(schema, model, data)


def _validate(
    schema: TopicSchema, model: type[AuditEvent] | type[SessionEvent], data: dict[str, Any]
) -> Event:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        first = errors[0]
        more = len(errors) - 1
        reason = str(first["msg"]).removeprefix("Value error, ")
        if more:
            reason += f" (and {more} more {'problem' if more == 1 else 'problems'})"
        raise DecodeError(schema, field_path(first["loc"]), reason) from None


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a dotted path (`actor.email`, `metadata.items.0`), bounded."""
    path = ".".join(str(part) for part in loc)
    if len(path) > FIELD_PATH_MAX:
        path = path[: FIELD_PATH_MAX - 1] + "…"
    return path


def _json_kind(data: object) -> str:
    if isinstance(data, list):
        return "an array"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, bool):
        return "a boolean"
    if data is None:
        return "null"
    return "a number"
