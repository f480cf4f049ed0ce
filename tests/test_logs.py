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


def test_control_and_bidi_characters_from_event_data_are_escaped_in_both_formats() -> None:
    """A project id is event data: it must not drive the terminal or reorder a log line."""
    hostile = "p\x1b]0;owned\x07\x1b[2J\u202eevil\u2028x\x85y"
    escaped = r"p\u001b]0;owned\u0007\u001b[2J\u202eevil\u2028x\u0085y"
    for fmt in ("json", "console"):
        out = io.StringIO()
        configure_logging("info", fmt, out)
        get_logger("t").info("notification_fired", project_id=hostile)
        text = out.getvalue()
        assert text.count("\n") == 1, fmt
        for raw in ("\x1b", "\x07", "\u202e", "\u2028", "\x85"):
            assert raw not in text, (fmt, raw)
        if fmt == "json":
            assert orjson.loads(text)["project_id"] == escaped
        else:
            assert f"project_id={escaped} " in text
