"""Per-endpoint pacing: send to each webhook no faster than its provider allows.

A token bucket per endpoint (rate `r` per second, burst `b`), kept as a GCRA "theoretical arrival
time" so that each waiter reserves its own slot: FIFO without a lock or a queue object, and a
send that cannot get a slot before its deadline gets none (it ends `rate_limited`, it never
waits past its budget). A provider's 429 `retry_after` pauses the endpoint's bucket, so the
messages behind it wait instead of hammering ("Continuing to send messages after being rate
limited runs the risk of having your application permanently disabled":
https://api.slack.com/docs/rate-limits).

Buckets are keyed by a hash of the endpoint (webhook URL, plus the chat id for Telegram): the
secret itself is neither kept as a key nor logged. The number of buckets and of waiters per
bucket are bounded.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

#: Most sends that may wait on one endpoint at once; more end `rate_limited` at once.
MAX_WAITERS = 512
#: Most endpoints tracked; the least recently used idle bucket is dropped beyond it.
MAX_ENDPOINTS = 10_000
#: How long an endpoint pauses after a 429 that did not say for how long, seconds.
DEFAULT_429_PAUSE_S = 1.0
#: Longest pause a provider's hint may impose on an endpoint, seconds (a bogus `Retry-After:
#: 86400` must not silence a channel for a day; the circuit breaker handles real outages).
MAX_PAUSE_S = 60.0

Clock = Callable[[], float]


def endpoint_key(url: str, chat_id: str | None = None) -> str:
    """An opaque, stable key for one endpoint; the URL cannot be read back from it."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(url.encode())
    if chat_id is not None:
        digest.update(b"\x00" + chat_id.encode())
    return digest.hexdigest()


def rate_limit_hint(headers: Mapping[str, str]) -> float | None:
    """Seconds to hold off when the provider says the bucket is empty, from the common
    `X-RateLimit-Remaining: 0` + `X-RateLimit-Reset-After: <s>` pair (Discord sends it on every
    answer: https://discord.com/developers/docs/topics/rate-limits#header-format)."""
    remaining = reset_after = None
    for key, value in headers.items():
        lowered = key.lower()
        if lowered == "x-ratelimit-remaining":
            remaining = value.strip()
        elif lowered == "x-ratelimit-reset-after":
            reset_after = value.strip()
    if remaining != "0" or reset_after is None:
        return None
    try:
        seconds = float(reset_after)
    except ValueError:
        return None
    return seconds if 0 < seconds < float("inf") else None


class TokenBucket:
    """One endpoint's pacing: `rate_per_s` sustained, `burst` at once after a quiet spell."""

    def __init__(self, rate_per_s: float, burst: int = 1, clock: Clock = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self._interval = 1.0 / rate_per_s
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._tat = clock()  # theoretical arrival time of the next conforming send
        self.waiters = 0

    def reserve(self, deadline: float) -> float | None:
        """Reserve the next slot: the delay until it (0 = now), or None if it comes after
        `deadline` (nothing is reserved then)."""
        now = self._clock()
        tat = max(self._tat, now)
        send_at = max(now, tat - self._tolerance)
        if send_at > deadline:
            return None
        self._tat = tat + self._interval
        return send_at - now

    def cancel(self, delay_reserved_at: float) -> None:
        """Give back the slot of a waiter that will not send, if it is still the last one."""
        if abs(self._tat - delay_reserved_at) < 1e-9:
            self._tat -= self._interval

    async def acquire(self, deadline: float) -> bool:
        """Wait for a slot until at most `deadline` (same clock); False when none fits."""
        if self.waiters >= MAX_WAITERS:
            return False
        delay = self.reserve(deadline)
        if delay is None:
            return False
        if delay <= 0:
            return True
        mark = self._tat
        self.waiters += 1
        try:
            await asyncio.sleep(delay)
        except BaseException:
            self.cancel(mark)
            raise
        finally:
            self.waiters -= 1
        return True

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` from now (a provider's retry-after), then no burst."""
        seconds = min(max(seconds, 0.0), MAX_PAUSE_S)
        self._tat = max(self._tat, self._clock() + seconds + self._tolerance)

    def idle(self) -> bool:
        """True when the bucket is full and nobody waits: dropping it changes nothing."""
        return self.waiters == 0 and self._tat <= self._clock()


class Pacer:
    """All endpoints' buckets. `bucket(key, rate, burst)` creates or finds one."""

    def __init__(self, clock: Clock = time.monotonic, max_endpoints: int = MAX_ENDPOINTS) -> None:
        self._clock = clock
        self._max = max_endpoints
        self._buckets: OrderedDict[tuple[str, float, int], TokenBucket] = OrderedDict()

    def bucket(self, key: str, rate_per_s: float, burst: int) -> TokenBucket:
        ident = (key, rate_per_s, burst)
        found = self._buckets.get(ident)
        if found is not None:
            self._buckets.move_to_end(ident)
            return found
        if len(self._buckets) >= self._max:
            self._evict()
        bucket = TokenBucket(rate_per_s, burst, self._clock)
        self._buckets[ident] = bucket
        return bucket

    def _evict(self) -> None:
        for ident, bucket in list(self._buckets.items()):
            if bucket.idle():
                del self._buckets[ident]
                if len(self._buckets) < self._max:
                    return
        # Every bucket is busy: drop the least recently used anyway, memory stays bounded.
        self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)
