"""docs/operations.md stays true to the code: every setting with its default, every metric,
every delivery outcome with a sample line, only log events and metric names that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from consumer import metrics
from consumer.channels.base import Outcome
from consumer.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
CODE = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "consumer").rglob("*.py")))
# Names the doc may use that the service does not export (from a Kafka exporter, Kubernetes).
EXTERNAL_METRICS = frozenset({"kafka_consumergroup_lag"})
# Fields every `delivery` line has (consumer/delivery.py `_log_attempt` and its bound context).
DELIVERY_FIELDS = frozenset(
    {
        "event",
        "level",
        "ts",
        "topic",
        "partition",
        "offset",
        "project_id",
        "channel_id",
        "channel_type",
        "url",
        "outcome",
        "status",
        "duration_ms",
        "attempt",
        "detail",
    }
)


def table_rows(after: str) -> list[list[str]]:
    """The rows of the first table after the text `after`: cells stripped, header dropped."""
    rest = DOC.split(after, 1)[1].splitlines()
    start = next(i for i, line in enumerate(rest) if line.startswith("|"))
    rows = []
    for line in rest[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def json_lines() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC, flags=re.DOTALL)
    return [json.loads(line) for block in blocks for line in block.splitlines() if line.strip()]


def test_every_setting_is_documented_with_its_default() -> None:
    rows = {row[0].strip("`"): row for row in table_rows("\n## Configuration\n")}
    for name, field in Settings.model_fields.items():
        row = rows.get(name.upper())
        assert row is not None, f"{name.upper()} is not in the configuration table"
        default = field.default
        shown = "unset" if default in (None, ()) else str(default)
        assert row[1].strip("`") == shown, f"{name.upper()}: default {row[1]} but code has {shown}"
    extra = set(rows) - {n.upper() for n in Settings.model_fields}
    assert not extra, f"documented but not settings: {sorted(extra)}"


def test_every_metric_is_documented() -> None:
    rows = {row[0].strip("`") for row in table_rows("\n## Metrics\n")}
    declared = {
        f.name + ("_total" if f.type == "counter" else "") for f in metrics.REGISTRY.collect()
    }
    assert rows == declared


def exported_names() -> set[str]:
    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
    return {f.name + s for f in metrics.REGISTRY.collect() for s in suffixes[f.type]}


def test_every_metric_name_in_the_queries_and_alerts_exists() -> None:
    queries = "\n".join(re.findall(r"```promql\n(.*?)```", DOC, flags=re.DOTALL))
    alerts = DOC.split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]
    used = set(re.findall(r"\b((?:webhook|kafka)_[a-z_]+)\b", queries + alerts))
    assert len(used) >= 8
    unknown = used - exported_names() - EXTERNAL_METRICS
    assert not unknown, f"not exported by consumer/metrics.py: {sorted(unknown)}"


@pytest.mark.parametrize("outcome", [o.value for o in Outcome])
def test_each_outcome_has_a_sample_delivery_line_and_an_explanation(outcome: str) -> None:
    samples = [
        line
        for line in json_lines()
        if line.get("event") == "delivery" and line.get("outcome") == outcome
    ]
    assert len(samples) == 1, f"one sample line for {outcome}"
    sample = samples[0]
    assert set(sample) >= DELIVERY_FIELDS, sorted(DELIVERY_FIELDS - set(sample))
    assert str(sample["url"]).endswith("/***"), "URLs are redacted"
    assert sample["level"] == ("info" if outcome == "delivered" else "warning")
    explained = {row[0].strip("`") for row in table_rows("What each outcome means")}
    assert outcome in explained


def test_documented_log_events_exist_in_the_code() -> None:
    section = DOC.split("\n## Logs\n", 1)[1].split("\n## ", 1)[0]
    events = set()
    for line in section.splitlines():
        if line.startswith("| `") and line.count("|") == 4:  # the event table: 3 columns
            events |= set(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    events |= {str(line["event"]) for line in json_lines()}
    assert len(events) > 15
    missing = sorted(e for e in events if f'"{e}"' not in CODE)
    assert not missing, f"documented log events the code never logs: {missing}"


def test_the_sample_lines_leak_no_secret() -> None:
    for line in json_lines():
        text = json.dumps(line)
        assert "hooks.slack.com/services" not in text
        assert not re.search(r"bot\d+:", text), "no Telegram bot token"
        assert "chat_id" not in line
