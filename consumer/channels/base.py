"""What every channel module provides, and the vocabulary delivery speaks.

A channel module (slack, discord, teams, kakaowork, telegram) is pure: it renders a Notification
into an OutboundRequest and classifies the endpoint's answer into a Verdict. It never does I/O;
`consumer.delivery` is the only place that talks HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, Protocol

import orjson

from consumer.channel import ChannelConfig, ChannelType
from consumer.notification import Notification
from consumer.redact import redact_url


class Outcome(StrEnum):
    """How one delivery attempt ended (ARCHITECTURE.md §1)."""

    DELIVERED = "delivered"  # the provider accepted the message
    REJECTED = "rejected"  # 4xx other than 429: our request or the channel is wrong; no retry
    RATE_LIMITED = "rate_limited"  # 429, or our own pacing could not fit it in the budget
    FAILED = "failed"  # 5xx, connection refused or reset, unreadable answer
    TIMEOUT = "timeout"  # the 5 s budget ran out
    BLOCKED = "blocked"  # the URL policy refused the target (or a redirect was not followed)
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

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)

    def __repr__(self) -> str:
        # Neither the URL (a credential) nor the body (event data, a Telegram chat id) is shown.
        return (
            f"OutboundRequest(method={self.method!r}, url={self.redacted_url!r}, "
            f"body=<{len(self.body_bytes())} bytes>)"
        )


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


#: Longest `Verdict.detail` a channel builds from a provider's answer.
DETAIL_MAX: Final = 80
_SAFE_WORD = re.compile(r"[A-Za-z][A-Za-z'_-]{0,39}[:.,;!]?")


def safe_words(text: str, limit: int = DETAIL_MAX) -> str:
    """The words of a provider's error text that are safe to log: letters only.

    Anything with a digit, a slash, a quote or other punctuation inside is dropped, and with it
    tokens, ids, URLs, byte offsets and quoted fragments of our own message, which some
    providers echo back (Telegram: `can't parse entities: ... "<tag>" at byte offset 3`).
    """
    words = [w for w in text.split() if _SAFE_WORD.fullmatch(w)]
    out = ""
    for word in words:
        candidate = f"{out} {word}" if out else word
        if len(candidate) > limit:
            break
        out = candidate
    return out


def json_object(body: bytes) -> dict[str, Any] | None:
    """The answer as a JSON object, or None when it is not one."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def with_detail(verdict: Verdict, extra: str) -> Verdict:
    """`verdict` with `extra` appended to its detail (a safe provider code or phrase)."""
    if not extra:
        return verdict
    detail = f"{verdict.detail} {extra}" if verdict.detail else extra
    return replace(verdict, detail=detail[:DETAIL_MAX].rstrip())


def seconds(value: object) -> float | None:
    """A non-negative number of seconds from a JSON value, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None
