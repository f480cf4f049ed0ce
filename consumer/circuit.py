"""Per-channel circuit breaker: a channel that keeps failing stops eating the budget of others.

    CLOSED --K consecutive failed/timeout--> OPEN --cool-down elapsed--> HALF_OPEN
    HALF_OPEN --probe answered--> CLOSED          HALF_OPEN --probe failed/timeout--> OPEN

While OPEN every send is skipped. HALF_OPEN lets exactly one probe through; the other sends are
skipped until that probe ends. A prompt answer from the endpoint (`delivered`, or a `rejected`
4xx: the endpoint is alive, our request or the channel is wrong) closes the circuit; `failed`
and `timeout` count against it; `rate_limited`, `blocked` and `skipped` say nothing about the
endpoint's health and leave the count as it is.

Pure logic with an injectable clock; `consumer.delivery` owns the instances and the gauge.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from consumer.channels.base import Outcome

#: Consecutive failed/timeout deliveries that open a channel's circuit.
FAILURE_THRESHOLD = 5
#: How long an open circuit skips sends before one probe is let through, seconds.
COOL_DOWN_S = 30.0

_FAILURES = frozenset({Outcome.FAILED, Outcome.TIMEOUT})
_ALIVE = frozenset({Outcome.DELIVERED, Outcome.REJECTED})

Clock = Callable[[], float]


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """One channel's breaker. Call `allow()` before a send and `record(outcome)` after it."""

    def __init__(
        self,
        threshold: int = FAILURE_THRESHOLD,
        cool_down_s: float = COOL_DOWN_S,
        clock: Clock = time.monotonic,
    ) -> None:
        if threshold < 1 or cool_down_s < 0:
            raise ValueError("threshold must be >= 1 and cool_down_s >= 0")
        self._threshold = threshold
        self._cool_down_s = cool_down_s
        self._clock = clock
        self._state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> State:
        """The state now (an open circuit whose cool-down elapsed reads as half-open)."""
        if self._state is State.OPEN and self._clock() - self._opened_at >= self._cool_down_s:
            return State.HALF_OPEN
        return self._state

    @property
    def failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a send go out now? In half-open state only the first caller gets True (the probe)."""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.OPEN:
            return False
        self._state = State.HALF_OPEN
        if self._probing:
            return False
        self._probing = True
        return True

    def record(self, outcome: Outcome) -> State:
        """Take the outcome of an allowed send into account; returns the state after it."""
        self._probing = False
        if outcome in _ALIVE:
            self._state = State.CLOSED
            self._failures = 0
        elif outcome in _FAILURES:
            self._failures += 1
            if self._state is State.HALF_OPEN or self._failures >= self._threshold:
                self._state = State.OPEN
                self._opened_at = self._clock()
        return self._state

    def abandon(self) -> None:
        """An allowed send ended without an answer worth judging (cancelled): free the probe."""
        self._probing = False


class Breakers:
    """The breakers of all channels, by channel id; a channel whose endpoint changed starts fresh.

    `endpoint` is an opaque fingerprint of the channel's target (never the URL itself).
    """

    def __init__(
        self,
        threshold: int = FAILURE_THRESHOLD,
        cool_down_s: float = COOL_DOWN_S,
        clock: Clock = time.monotonic,
    ) -> None:
        self._threshold = threshold
        self._cool_down_s = cool_down_s
        self._clock = clock
        self._by_channel: dict[str, tuple[str, CircuitBreaker]] = {}

    def get(self, channel_id: str, endpoint: str) -> CircuitBreaker:
        found = self._by_channel.get(channel_id)
        if found is not None and found[0] == endpoint:
            return found[1]
        breaker = CircuitBreaker(self._threshold, self._cool_down_s, self._clock)
        self._by_channel[channel_id] = (endpoint, breaker)
        return breaker

    def __len__(self) -> int:
        return len(self._by_channel)
