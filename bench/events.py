"""Realistic audit rows for the benchmarks (pure, seeded): 400-800 bytes of JSON each.

Rows look like what transcodes writes: an actor, and metadata with a guard decision, request
ids, a client address and a user agent. `silent_row` never fires (the filter path); `firing_row`
always does (severity high, or `webhookNotification` on a non-guard tag).

For latency runs `stamp` puts the produce time (`time.time_ns()`) into the metadata as the
first key, `bench_t`, so it shows in every rendered message and the sink can read it back.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

#: The metadata key that carries the produce time, in nanoseconds since the epoch.
STAMP_KEY: Final = "bench_t"

_TAGS_SILENT: Final = ("guard_gate_decision", "billing:invoice", "member:login", "mcp:tool_call")
_TAGS_FIRING: Final = ("mcp:stepup", "billing:refund", "member:role_change", "api_key:created")
_DECISIONS: Final = ("allow", "deny-rbac-denied", "stepup-pending", "allow-after-verify")
_ROLES: Final = ("developer", "viewer", "billing-admin", "owner", "support")
_NAMES: Final = ("Ada Park", "Kim Lee", "Sam Ortiz", "Noor Haddad", "Jun Seo", "Lea Martin")
_RESOURCES: Final = ("prod-db", "billing-api", "staging-cluster", "secrets-vault", "ci-runner")
_ACTIONS: Final = ("migrate", "read", "drop", "deploy", "rotate", "export")
_AGENTS: Final = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "transcodes-node/3.4.1 (linux; x64) node/20.17.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "transcodes-guard/1.9.0",
)
_EPOCH: Final = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


def _row(rng: random.Random, index: int, project_id: str) -> dict[str, Any]:
    name = rng.choice(_NAMES)
    metadata: dict[str, Any] = {
        "decision": rng.choice(_DECISIONS),
        "resource": rng.choice(_RESOURCES),
        "action": rng.choice(_ACTIONS),
        "ruleId": f"rule_{_hex(rng, 6)}",
        "fp": f"sha256:{_hex(rng, 16)}",
        "requestId": f"req_{_hex(rng, 20)}",
        "ip": f"203.0.113.{rng.randrange(1, 255)}",
        "userAgent": rng.choice(_AGENTS),
        "sdk": {"name": "transcodes-js", "version": f"2.{rng.randrange(10)}.{rng.randrange(20)}"},
    }
    if rng.random() < 0.5:
        metadata["path"] = "/" + "/".join(_hex(rng, rng.randrange(3, 9)) for _ in range(3))
    return {
        "id": f"aud_{index:08d}{_hex(rng, 12)}",
        "project_id": project_id,
        "tag": "",
        "severity": "low",
        "status": rng.random() < 0.8,
        "actor": {
            "member_id": f"mem_{_hex(rng, 4)}",
            "name": name,
            "email": name.lower().replace(" ", ".") + "@example.com",
            "role": rng.choice(_ROLES),
        },
        "metadata": metadata,
        "created_at": (_EPOCH + timedelta(milliseconds=index * 7)).isoformat(),
    }


def silent_row(rng: random.Random, index: int, project_id: str) -> dict[str, Any]:
    """An audit row the rules skip: low/medium, and never a flagged non-guard row."""
    row = _row(rng, index, project_id)
    row["tag"] = rng.choice(_TAGS_SILENT)
    row["severity"] = rng.choice(("low", "medium"))
    # A guard gate row below high never fires, even with the flag (the rules' special case).
    row["webhook_notification"] = row["tag"] == "guard_gate_decision" and rng.random() < 0.2
    return row


def firing_row(rng: random.Random, index: int, project_id: str) -> dict[str, Any]:
    """An audit row the rules fire on."""
    row = _row(rng, index, project_id)
    row["tag"] = rng.choice(_TAGS_FIRING)
    if rng.random() < 0.5:
        row["severity"] = "high"
    else:
        row["severity"] = "medium"
        row["webhook_notification"] = True
    return row


def stamp(row: dict[str, Any], t_ns: int) -> dict[str, Any]:
    """The row with the produce time as its first metadata key (shown first in messages)."""
    return {**row, "metadata": {STAMP_KEY: t_ns, **row["metadata"]}}


def encode(row: dict[str, Any]) -> bytes:
    return orjson.dumps(row)


def key_of(row: dict[str, Any]) -> bytes:
    """Records are keyed by audit row id: every record is independent (see docs/BENCHMARKS.md)."""
    return str(row["id"]).encode()
