"""The per-channel circuit breaker, driven by a fake clock."""

from __future__ import annotations

import pytest

from consumer.channels.base import Outcome
from consumer.circuit import Breakers, CircuitBreaker, State


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def breaker(clock: FakeClock, threshold: int = 3, cool_down_s: float = 10.0) -> CircuitBreaker:
    return CircuitBreaker(threshold=threshold, cool_down_s=cool_down_s, clock=clock)


def fail(b: CircuitBreaker, times: int, outcome: Outcome = Outcome.FAILED) -> None:
    for _ in range(times):
        assert b.allow()
        b.record(outcome)


def test_opens_after_k_consecutive_failures_and_skips_while_open(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 2)
    assert b.state is State.CLOSED
    fail(b, 1, Outcome.TIMEOUT)
    assert b.state is State.OPEN
    assert not b.allow()
    clock.now += 9.9
    assert not b.allow()


def test_a_success_in_between_resets_the_count(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 2)
    fail(b, 1, Outcome.DELIVERED)
    fail(b, 2)
    assert b.state is State.CLOSED
    assert b.failures == 2


@pytest.mark.parametrize(
    ("outcome", "resets"),
    [
        pytest.param(Outcome.DELIVERED, True, id="delivered proves the endpoint alive"),
        pytest.param(Outcome.REJECTED, True, id="a prompt 4xx proves the endpoint alive too"),
        pytest.param(Outcome.RATE_LIMITED, False, id="rate limited says nothing about health"),
        pytest.param(Outcome.BLOCKED, False, id="blocked was never sent"),
        pytest.param(Outcome.SKIPPED, False, id="skipped was never sent"),
    ],
)
def test_which_outcomes_reset_the_failure_count(
    clock: FakeClock, outcome: Outcome, resets: bool
) -> None:
    b = breaker(clock)
    fail(b, 2)
    fail(b, 1, outcome)
    assert b.failures == (0 if resets else 2)


def test_after_the_cool_down_one_probe_goes_and_success_closes(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 3)
    clock.now += 10.0
    assert b.state is State.HALF_OPEN
    assert b.allow()  # the probe
    assert not b.allow()  # everyone else waits for it
    assert not b.allow()
    assert b.record(Outcome.DELIVERED) is State.CLOSED
    assert b.allow()
    assert b.failures == 0


def test_a_failed_probe_reopens_for_a_full_cool_down(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 3)
    clock.now += 10.0
    assert b.allow()
    assert b.record(Outcome.TIMEOUT) is State.OPEN
    clock.now += 9.0
    assert not b.allow()
    clock.now += 1.0
    assert b.allow()


def test_an_abandoned_probe_frees_the_slot_for_the_next_caller(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 3)
    clock.now += 10.0
    assert b.allow()
    b.abandon()
    assert b.state is State.HALF_OPEN
    assert b.allow()


def test_a_rate_limited_probe_leaves_it_half_open(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 3)
    clock.now += 10.0
    assert b.allow()
    assert b.record(Outcome.RATE_LIMITED) is State.HALF_OPEN
    assert b.allow()


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(threshold=0)
    with pytest.raises(ValueError, match="cool_down_s"):
        CircuitBreaker(cool_down_s=-1)


def test_breakers_are_per_channel_and_start_fresh_when_the_endpoint_changes(
    clock: FakeClock,
) -> None:
    breakers = Breakers(threshold=1, cool_down_s=10.0, clock=clock)
    a = breakers.get("a", "endpoint-1")
    fail(a, 1)
    assert breakers.get("a", "endpoint-1") is a
    assert breakers.get("a", "endpoint-1").state is State.OPEN
    assert breakers.get("b", "endpoint-1").state is State.CLOSED
    fresh = breakers.get("a", "endpoint-2")
    assert fresh is not a
    assert fresh.state is State.CLOSED
    assert len(breakers) == 2
