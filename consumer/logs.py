"""Logging, configured in one place: structlog, one JSON object per line, flushed as written.

Field names SREs rely on: `event`, `topic`, `partition`, `offset`, `project_id`, `channel_id`,
`channel_type`, `outcome`, `status`, `duration_ms`. A last processor scrubs URLs out of every
string value, so a webhook URL that slips into an exception text is still never printed whole.
Another escapes control and invisible format characters in string values (event data such as a
project id reaches log lines): no terminal escape sequence, line or paragraph separator or bidi
override can reach an operator's terminal or log viewer as such, in either format.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog

from consumer.redact import scrub_text

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def scrub_urls(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: redact URLs inside every string value (defence in depth)."""
    for key, value in event_dict.items():
        if isinstance(value, str) and "://" in value:
            event_dict[key] = scrub_text(value)
    return event_dict


# Control characters but tab, newline and carriage return (which both renderers quote), line and
# paragraph separators, and invisible format characters (zero-width, bidi embeddings, overrides,
# isolates, marks).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_controls(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: control and format characters in string values become `\\uXXXX`."""
    for key, value in event_dict.items():
        if isinstance(value, str) and _UNSAFE.search(value):
            event_dict[key] = _UNSAFE.sub(_escaped, value)
    return event_dict


def _orjson_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


#: The level `configure_logging` set last (unconfigured structlog shows everything).
_current_level = logging.DEBUG


def log_level_enabled(level: str) -> bool:
    """Whether lines at `level` are written: lets a hot path skip building a debug line."""
    return _LEVELS[level] >= _current_level


def configure_logging(level: str = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Configure structlog (and route stdlib logging, e.g. aiokafka's, through the same output)."""
    global _current_level  # logging is configured once per process, here
    _current_level = _LEVELS[level]
    out = stream or sys.stdout
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.processors.format_exc_info,
        scrub_urls,
        escape_controls,
    ]
    if fmt == "console":
        renderer: list[Any] = [structlog.dev.ConsoleRenderer(colors=False)]
        factory: Any = structlog.PrintLoggerFactory(out)
    else:
        renderer = [structlog.processors.JSONRenderer(serializer=_orjson_dumps)]
        factory = structlog.WriteLoggerFactory(out)  # writes and flushes each line
    structlog.configure(
        processors=shared + renderer,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=factory,
        cache_logger_on_first_use=False,
    )
    _route_stdlib(level)


class _StdlibBridge(logging.Handler):
    """Send stdlib log records (aiokafka, aiohttp) through structlog, so every line is JSON."""

    def emit(self, record: logging.LogRecord) -> None:
        log = structlog.get_logger(record.name)
        level = record.levelname.lower()
        method = getattr(log, level if level != "critical" else "error", log.info)
        method(record.getMessage(), logger=record.name)


def _route_stdlib(level: str) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _StdlibBridge):
            root.removeHandler(handler)
    root.addHandler(_StdlibBridge())
    # aiokafka is chatty at INFO (every rebalance step); its warnings and errors still show.
    root.setLevel(max(_LEVELS[level], logging.WARNING))


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
