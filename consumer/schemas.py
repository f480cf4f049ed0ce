"""JSON Schemas of the contracts, generated from the models (ARCHITECTURE.md §2, §4).

`webhook-consumer schemas --out schemas/` writes them; `schemas/` is committed, and
tests/test_schemas.py fails when the committed files drift from the models (`make schemas`).

The schemas describe the canonical snake_case field names. The service also accepts the aliases
the contract lists (camelCase, `timestamp`, `sid`, `url`); each field's description names them.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from pydantic import BaseModel

from consumer.channel import ChannelsFile
from consumer.events import AuditEvent, SessionEvent

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

#: file name -> (model, title)
SCHEMA_FILES: Final[dict[str, tuple[type[BaseModel], str]]] = {
    "audit-log.schema.json": (AuditEvent, "audit-log event: one audit row"),
    "hosted-auth-sessions.schema.json": (
        SessionEvent,
        "hosted-auth-sessions event: one lifecycle event of a hosted-auth session",
    ),
    "channels.schema.json": (ChannelsFile, "channels file: the chat channels of each project"),
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file's name and content."""
    out: dict[str, dict[str, Any]] = {}
    for name, (model, title) in SCHEMA_FILES.items():
        schema = model.model_json_schema(by_alias=False, mode="validation")
        schema["$schema"] = JSON_SCHEMA_DIALECT
        schema["$id"] = name
        schema["title"] = title
        out[name] = schema
    return out


def render_schema(schema: dict[str, Any]) -> bytes:
    """The file form: sorted keys, 2-space indent, trailing newline."""
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
