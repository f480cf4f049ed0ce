"""Per-endpoint pacing: GCRA token buckets, with a fake clock for the arithmetic and real short
sleeps for the waiting."""

from __future__ import annotations

import asyncio
import time

import pytest

from consumer.pacing import (
    MAX_PAUSE_S,
    MAX_WAITERS,
    Pacer,
    TokenBucket,
    endpoint_key,
    rate_limit_hint,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_at_once_then_one_slot_per_interval() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=1.0, burst=3, clock=clock)
    far = clock.now + 100
    delays = [bucket.reserve(far) for _ in range(6)]
    assert delays == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]


def test_a_quiet_spell_refills_the_burst_but_no_more() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=2.0, burst=2, clock=clock)
    far = clock.now + 100
    assert [bucket.reserve(far) for _ in range(3)] == [0.0, 0.0, 0.5]
    clock.now += 60
    assert [bucket.reserve(far) for _ in range(3)] == [0.0, 0.0, 0.5]


def test_a_slot_after_the_deadline_is_refused_and_not_reserved() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=1.0, burst=1, clock=clock)
    assert bucket.reserve(clock.now + 5) == 0.0
    assert bucket.reserve(clock.now + 0.5) is None
    assert bucket.reserve(clock.now + 5) == 1.0  # the refused one took nothing


def test_pause_holds_every_send_then_resumes_without_a_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=1.0, burst=5, clock=clock)
    bucket.pause(2.5)
    far = clock.now + 100
    assert [bucket.reserve(far) for _ in range(3)] == [2.5, 3.5, 4.5]


def test_a_huge_retry_after_is_capped() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=1.0, burst=1, clock=clock)
    bucket.pause(86_400)
    assert bucket.reserve(clock.now + 10_000) == MAX_PAUSE_S


def test_invalid_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="rate_per_s"):
        TokenBucket(rate_per_s=0)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(rate_per_s=1, burst=0)


async def test_acquire_waits_for_its_slot_in_order() -> None:
    bucket = TokenBucket(rate_per_s=20.0, burst=1)
    deadline = time.monotonic() + 2
    order: list[int] = []

    async def send(i: int) -> None:
        assert await bucket.acquire(deadline)
        order.append(i)

    started = time.monotonic()
    await asyncio.gather(*(send(i) for i in range(4)))
    assert order == [0, 1, 2, 3]
    assert time.monotonic() - started >= 0.14  # three intervals of 50 ms


async def test_acquire_gives_up_at_once_when_no_slot_fits_the_deadline() -> None:
    bucket = TokenBucket(rate_per_s=1.0, burst=1)
    assert await bucket.acquire(time.monotonic() + 5)
    started = time.monotonic()
    assert not await bucket.acquire(time.monotonic() + 0.5)
    assert time.monotonic() - started < 0.1


async def test_a_cancelled_waiter_gives_its_slot_back() -> None:
    clock = time.monotonic
    bucket = TokenBucket(rate_per_s=2.0, burst=1, clock=clock)
    assert await bucket.acquire(clock() + 5)
    waiter = asyncio.create_task(bucket.acquire(clock() + 5))
    await asyncio.sleep(0.05)
    assert bucket.waiters == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert bucket.waiters == 0
    delay = bucket.reserve(clock() + 5)
    assert delay is not None
    assert delay < 0.5  # the slot the cancelled waiter held is free again


async def test_waiters_per_endpoint_are_bounded() -> None:
    bucket = TokenBucket(rate_per_s=1000.0, burst=1)
    deadline = time.monotonic() + 5
    bucket.pause(0.3)
    waiting = [asyncio.create_task(bucket.acquire(deadline)) for _ in range(MAX_WAITERS)]
    await asyncio.sleep(0.01)
    assert bucket.waiters == MAX_WAITERS
    assert not await bucket.acquire(deadline)
    assert all(await asyncio.gather(*waiting))


def test_the_pacer_keeps_one_bucket_per_endpoint() -> None:
    pacer = Pacer(clock=FakeClock())
    a = pacer.bucket("a", 1.0, 1)
    assert pacer.bucket("a", 1.0, 1) is a
    assert pacer.bucket("a", 2.0, 1) is not a  # a rate override is its own bucket
    assert pacer.bucket("b", 1.0, 1) is not a


def test_the_pacer_stays_bounded_dropping_an_idle_bucket_before_a_busy_one() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, max_endpoints=2)
    busy = pacer.bucket("busy", 1.0, 1)
    idle = pacer.bucket("idle", 1.0, 1)
    for _ in range(30):
        busy.reserve(clock.now + 100)  # 30 s of sends queued: dropping it would lose that
    clock.now += 5
    pacer.bucket("new", 1.0, 1)
    assert len(pacer) == 2
    assert pacer.bucket("busy", 1.0, 1) is busy
    assert pacer.bucket("idle", 1.0, 1) is not idle  # it was the one dropped


def test_endpoint_keys_hide_the_url_and_separate_telegram_chats() -> None:
    url = "https://api.telegram.org/bot123:SECRET/sendMessage"
    key = endpoint_key(url, "-100123")
    assert "SECRET" not in key
    assert "telegram" not in key
    assert key == endpoint_key(url, "-100123")
    assert key != endpoint_key(url, "-100999")
    assert key != endpoint_key(url)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "1.5"},
            1.5,
            id="an empty bucket with its reset time holds the endpoint",
        ),
        pytest.param(
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "0.25"},
            0.25,
            id="header names in any case",
        ),
        pytest.param(
            {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset-After": "1.5"},
            None,
            id="requests remaining means no hold",
        ),
        pytest.param({"X-RateLimit-Remaining": "0"}, None, id="no reset time means no hold"),
        pytest.param(
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "soon"},
            None,
            id="an unreadable reset time is ignored",
        ),
        pytest.param({}, None, id="no headers"),
    ],
)
def test_rate_limit_hint(headers: dict[str, str], expected: float | None) -> None:
    assert rate_limit_hint(headers) == expected
