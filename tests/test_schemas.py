"""The committed JSON Schemas in schemas/ match the models, and they accept the sample events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import orjson
import pytest

from consumer.channel import ChannelsFile
from consumer.decode import decode
from consumer.errors import DecodeError
from consumer.schemas import SCHEMA_FILES, json_schemas, render_schema
from tests.support.events import EVENTS_DIR

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
REGENERATE = "regenerate with `make schemas` (webhook-consumer schemas --out schemas) and commit"


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES), ids=lambda n: f"schemas/{n} is current")
def test_the_committed_schema_matches_the_models(name: str) -> None:
    committed = SCHEMAS_DIR / name
    assert committed.is_file(), f"schemas/{name} is missing: {REGENERATE}"
    assert committed.read_bytes() == render_schema(json_schemas()[name]), (
        f"schemas/{name} drifted from the models: {REGENERATE}"
    )


def test_schemas_holds_only_generated_files() -> None:
    assert {p.name for p in SCHEMAS_DIR.glob("*.json")} == set(SCHEMA_FILES)


def test_the_command_writes_every_schema_and_prints_the_paths(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "schemas"
    done = subprocess.run(
        [sys.executable, "-m", "consumer", "schemas", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(out / name) for name in SCHEMA_FILES]
    for name, schema in json_schemas().items():
        written = (out / name).read_bytes()
        assert written.endswith(b"}\n")
        assert orjson.loads(written) == schema


@pytest.mark.parametrize(
    "name", sorted(SCHEMA_FILES), ids=lambda n: f"{n} is a valid 2020-12 schema"
)
def test_each_schema_is_valid_json_schema(name: str) -> None:
    schema = json_schemas()[name]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == name
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


CANONICAL_SAMPLES = [
    ("audit-log.schema.json", "guard_stepup_gate_pending"),
    ("audit-log.schema.json", "mcp_stepup_failure"),
    ("hosted-auth-sessions.schema.json", "guard_stepup_session_created"),
    ("hosted-auth-sessions.schema.json", "console_session"),
]


@pytest.mark.parametrize(
    ("name", "sample"),
    CANONICAL_SAMPLES,
    ids=[f"the {sample} sample satisfies {name}" for name, sample in CANONICAL_SAMPLES],
)
def test_sample_events_in_canonical_names_satisfy_the_schemas(name: str, sample: str) -> None:
    instance = orjson.loads((EVENTS_DIR / f"{sample}.json").read_bytes())
    jsonschema.Draft202012Validator(json_schemas()[name]).validate(instance)


def test_the_event_schemas_reject_what_the_models_reject() -> None:
    schema = json_schemas()["audit-log.schema.json"]
    instance = orjson.loads((EVENTS_DIR / "invalid_severity.json").read_bytes())
    assert not jsonschema.Draft202012Validator(schema).is_valid(instance)


def test_the_channels_schema_accepts_the_architecture_example() -> None:
    example = {
        "channels": [
            {
                "id": "sec-slack",
                "project_id": "proj_123",
                "type": "slack",
                "url": "https://hooks.slack.com/services/T000/B000/XXXX",
                "active": True,
                "rate_per_s": 1,
            },
            {
                "id": "oncall-telegram",
                "project_id": "proj_123",
                "type": "telegram",
                "url": "https://api.telegram.org/bot<token>/sendMessage",
                "chat_id": "-1001234567890",
                "active": True,
            },
        ]
    }
    validator = jsonschema.Draft202012Validator(json_schemas()["channels.schema.json"])
    validator.validate(example)
    assert not validator.is_valid({"channels": [{**example["channels"][0], "typo": 1}]})


def test_the_schemas_accept_every_valid_sample_as_the_service_does_aliases_included() -> None:
    schemas = json_schemas()
    checked = 0
    for path in sorted(EVENTS_DIR.glob("*.json")):
        raw = path.read_bytes()
        for topic in ("audit-log", "hosted-auth-sessions"):
            validator = jsonschema.Draft202012Validator(schemas[f"{topic}.schema.json"])
            try:
                decode(topic, raw)
            except DecodeError:
                continue
            validator.validate(orjson.loads(raw))  # e.g. projectId, memberId, timestamp
            checked += 1
    assert checked >= 15


@pytest.mark.parametrize(
    ("instance", "valid"),
    [
        ({"id": "a", "projectId": "p", "tag": "t", "timestamp": "2026-12-04T00:00:00Z"}, True),
        ({"id": "a", "project_id": "p", "tag": "t", "createdAt": "2026-12-04T00:00:00Z"}, True),
        ({"id": "a", "tag": "t", "created_at": "2026-12-04T00:00:00Z"}, False),
        ({"id": "a", "projectId": "p", "tag": "t"}, False),
    ],
    ids=[
        "camelCase project id and the timestamp alias are accepted",
        "createdAt is accepted",
        "a project id under no name is missing",
        "a creation time under no name is missing",
    ],
)
def test_a_required_field_may_come_under_any_of_its_names(
    instance: dict[str, object], valid: bool
) -> None:
    validator = jsonschema.Draft202012Validator(json_schemas()["audit-log.schema.json"])
    assert validator.is_valid(instance) is valid


def test_the_channels_schema_accepts_the_camel_case_keys_the_model_accepts() -> None:
    channel = {
        "id": "tg",
        "projectId": "p",
        "type": "telegram",
        "url": "https://api.telegram.org/bot1:x/sendMessage",
        "chatId": "-100",
        "ratePerS": 1,
    }
    ChannelsFile.model_validate({"channels": [channel]})
    jsonschema.Draft202012Validator(json_schemas()["channels.schema.json"]).validate(
        {"channels": [channel]}
    )
