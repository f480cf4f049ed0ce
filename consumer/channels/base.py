"""What every channel module provides, and the vocabulary delivery speaks.

A channel module (slack, discord, teams, kakaowork, telegram) is pure: it renders a Notification
into an OutboundRequest and classifies the endpoint's answer into a Verdict. It never does I/O;
`consumer.delivery` is the only place that talks HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import orjson

from consumer.channel import ChannelConfig, ChannelType
from consumer.notification import Notification


class Outcome(StrEnum):
    """How one delivery attempt ended (ARCHITECTURE.md §1)."""

    DELIVERED = "delivered"  # the provider accepted the message
    REJECTED = "rejected"  # 4xx other than 429: our request or the channel is wrong; no retry
    RATE_LIMITED = "rate_limited"  # 429, or our own pacing could not fit it in the budget
    FAILED = "failed"  # 5xx, connection refused or reset, unreadable answer
    TIMEOUT = "timeout"  # the 5 s budget ran out
    BLOCKED = "blocked"  # the URL policy refused the target; nothing was sent
    SKIPPED = "skipped"  # the channel's circuit is open; nothing was sent


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """An HTTP request ready to send. `url` is a secret: never log it, use `redacted_url`."""

    url: str
    body: Mapping[str, Any]
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    def body_bytes(self) -> bytes:
        return orjson.dumps(self.body)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The channel's reading of one HTTP answer.

    `retry_after` is the wait in seconds the provider asked for (429), if any. `detail` is a short
    provider error code or phrase safe to log (never the body verbatim, never a URL).
    """

    outcome: Outcome
    retry_after: float | None = None
    detail: str = ""


class Channel(Protocol):
    """A channel module. The five modules under `consumer.channels` satisfy this protocol."""

    TYPE: ChannelType
    #: The provider's published sustained rate per webhook (messages per second) and burst.
    RATE_PER_S: float
    BURST: int

    def render(self, notification: Notification, channel: ChannelConfig) -> OutboundRequest:
        """Turn a notification into the exact request the provider expects, within its limits."""
        ...

    def classify(self, status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Read the provider's answer (some say 200 with an error body)."""
        ...


def retry_after_header(headers: Mapping[str, str]) -> float | None:
    """Seconds from a `Retry-After` header given as delta-seconds; None if absent or unreadable."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                seconds = float(value.strip())
            except ValueError:
                return None
            return seconds if seconds >= 0 else None
    return None


def by_status(status: int, headers: Mapping[str, str]) -> Verdict:
    """The default reading of an HTTP status, for providers without a more specific answer."""
    if 200 <= status < 300:
        return Verdict(Outcome.DELIVERED)
    if status == 429:
        return Verdict(Outcome.RATE_LIMITED, retry_after_header(headers), "http 429")
    if 400 <= status < 500:
        return Verdict(Outcome.REJECTED, None, f"http {status}")
    return Verdict(Outcome.FAILED, None, f"http {status}")
