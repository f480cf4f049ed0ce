"""Log lines are JSON, one per line, and never carry a webhook URL whole."""

from __future__ import annotations

import io

import orjson

from consumer.logs import configure_logging, get_logger


def test_each_line_is_one_json_object_with_urls_redacted() -> None:
    out = io.StringIO()
    configure_logging("info", "json", out)
    log = get_logger("t")
    log.info(
        "delivery",
        channel_id="c1",
        error="POST https://hooks.slack.com/services/T0/B0/SECRETPART failed",
    )
    log.debug("hidden at info")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    entry = orjson.loads(lines[0])
    assert entry["event"] == "delivery"
    assert entry["level"] == "info"
    assert entry["channel_id"] == "c1"
    assert "SECRETPART" not in lines[0]
    assert "https://hooks.slack.com/***" in entry["error"]
