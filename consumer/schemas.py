"""JSON Schemas of the contracts, generated from the models (ARCHITECTURE.md §2, §4).

`webhook-consumer schemas --out schemas/` writes them; `schemas/` is committed, and
tests/test_schemas.py fails when the committed files drift from the models (`make schemas`).

The schemas describe the canonical snake_case field names and, as the service does, accept the
aliases the contract lists (camelCase, `timestamp`, `sid`, `url`): each alias is a property of its
own with the field's schema, and a required field is required under one of its names.
"""

from __future__ import annotations

import copy
from typing import Any, Final

import orjson
from pydantic import AliasChoices, BaseModel
from pydantic.fields import FieldInfo

from consumer.channel import ChannelConfig, ChannelsFile
from consumer.events import Actor, AuditEvent, SessionEvent

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


#: Models that appear in the schemas, by the name pydantic gives their `$defs` entry.
_MODELS: Final[dict[str, type[BaseModel]]] = {
    m.__name__: m for m in (AuditEvent, SessionEvent, Actor, ChannelConfig, ChannelsFile)
}


def _aliases(name: str, field: FieldInfo) -> list[str]:
    """The other names a field is read from (its alias and validation aliases)."""
    found: list[str] = []
    if isinstance(field.validation_alias, AliasChoices):
        found += [c for c in field.validation_alias.choices if isinstance(c, str)]
    elif isinstance(field.validation_alias, str):
        found.append(field.validation_alias)
    if field.alias:
        found.append(field.alias)
    return [a for a in dict.fromkeys(found) if a != name]


def _accept_aliases(schema: dict[str, Any], model: type[BaseModel]) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    required: list[str] = schema.get("required", [])
    either: list[dict[str, Any]] = []
    for name, field in model.model_fields.items():
        aliases = _aliases(name, field)
        if not aliases or name not in properties:
            continue
        for alias in aliases:
            properties[alias] = copy.deepcopy(properties[name])
        if name in required:
            required.remove(name)
            either.append({"anyOf": [{"required": [n]} for n in (name, *aliases)]})
    if "required" in schema and not required:
        del schema["required"]
    if either:
        schema["allOf"] = either


def json_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file's name and content."""
    out: dict[str, dict[str, Any]] = {}
    for name, (model, title) in SCHEMA_FILES.items():
        schema = model.model_json_schema(by_alias=False, mode="validation")
        _accept_aliases(schema, model)
        for def_name, definition in schema.get("$defs", {}).items():
            if def_name in _MODELS:
                _accept_aliases(definition, _MODELS[def_name])
        schema["$schema"] = JSON_SCHEMA_DIALECT
        schema["$id"] = name
        schema["title"] = title
        out[name] = schema
    return out


def render_schema(schema: dict[str, Any]) -> bytes:
    """The file form: sorted keys, 2-space indent, trailing newline."""
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
