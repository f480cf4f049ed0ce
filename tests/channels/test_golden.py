"""Golden payloads: what each channel posts for each case, compared after JSON parsing.

`UPDATE_GOLDEN=1 .venv/bin/pytest tests/channels/test_golden.py` rewrites the files; review the
diff before committing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from consumer.channel import ChannelType
from consumer.channels import CHANNELS
from consumer.channels.base import OutboundRequest
from tests.channels.cases import CASES, channel

GOLDEN = Path(__file__).parent / "golden"


def as_json(request: OutboundRequest) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": request.url,
        "headers": dict(request.headers),
        "body": orjson.loads(request.body_bytes()),
    }


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("channel_type", list(ChannelType), ids=lambda t: t.value)
def test_payload_matches_its_golden_file(
    channel_type: ChannelType, case: str, update_golden: bool
) -> None:
    actual = as_json(CHANNELS[channel_type].render(CASES[case], channel(channel_type)))
    path = GOLDEN / channel_type.value / f"{case}.json"
    if update_golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n")
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1"
    assert orjson.loads(path.read_bytes()) == actual


def test_every_golden_file_belongs_to_a_case() -> None:
    expected = {f"{t.value}/{case}.json" for t in ChannelType for case in CASES}
    found = {str(p.relative_to(GOLDEN)) for p in GOLDEN.glob("*/*.json")}
    assert found == expected
