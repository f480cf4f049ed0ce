"""Delivery: the only place that talks HTTP. Posts one notification to all of its channels.

`Delivery.deliver(notification, channels)` renders one request per channel (pure channel
modules), posts them concurrently over one shared `aiohttp.ClientSession` and returns one
`DeliveryResult` per channel. A dead, slow, rate-limited or hostile endpoint never delays the
others: each channel has its own hard budget (`WEBHOOK_TIMEOUT_S`, 5 s) covering pacing, DNS,
connect, TLS, send, the whole answer and the one retry, so `deliver` returns by the budget.

Per channel, in order:
1. render (channel module) and URL policy (`consumer.urlpolicy.check_url`) -> `blocked`;
2. circuit breaker (`consumer.circuit`) -> `skipped` while open;
3. pacing (`consumer.pacing`) -> `rate_limited` ("paced: budget exhausted") when no slot fits;
4. the request: redirects are not followed, the answer body is read up to `BODY_CAP_BYTES`,
   the channel module's `classify` reads it; the connect-time guard (`GuardedResolver` and
   `guarded_socket`) refuses forbidden addresses after DNS, so DNS rebinding cannot slip by;
5. at most one retry, for a 429 that said when, or for a 5xx or a reset connection, and only
   if the wait plus a request still fit in the same budget. Never for any other 4xx.

Every attempt logs one `delivery` line (info when delivered, warning otherwise) with the
caller's context and `channel_id`, `channel_type`, `outcome`, `status`, `duration_ms`,
`attempt`, `detail` and the redacted `url`. Each channel's final outcome is counted in
`webhook_deliveries_total` and timed in `webhook_delivery_duration_seconds`.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import aiohttp
import structlog
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from multidict import CIMultiDict
from yarl import URL

from consumer import metrics
from consumer.channel import ChannelConfig, ChannelType
from consumer.channels import CHANNELS
from consumer.channels.base import Channel, OutboundRequest, Outcome
from consumer.circuit import COOL_DOWN_S, FAILURE_THRESHOLD, Breakers, CircuitBreaker, State
from consumer.config import Settings
from consumer.logs import get_logger
from consumer.notification import Notification
from consumer.pacing import DEFAULT_429_PAUSE_S, Pacer, TokenBucket, endpoint_key, rate_limit_hint
from consumer.urlpolicy import UrlPolicy, check_url, forbidden_address

#: Most bytes of an answer body read; the rest is never buffered (a 10 MB answer costs 64 KiB).
BODY_CAP_BYTES = 64 * 1024
#: Connections of the one session in all, and per host (every Slack webhook is on one host).
MAX_CONNECTIONS = 256
MAX_CONNECTIONS_PER_HOST = 64
#: An idle keep-alive connection is closed after this many seconds.
KEEPALIVE_S = 30.0
#: Resolved addresses (already filtered by the guard) are cached this many seconds.
DNS_CACHE_S = 60
#: Wait before the one retry after a 5xx or a reset when the endpoint gave no hint, seconds.
RETRY_BACKOFF_S = 0.2
#: The least time a request is assumed to take when deciding whether a wait plus a retry still
#: fit the budget, and the part of the budget pacing keeps for the request itself (seconds; at
#: most a quarter of the budget).
MIN_REQUEST_S = 0.5
#: How far past its budget a channel may run before it is cut off whatever it is doing (the
#: inner deadlines normally end it first), seconds.
OVERRUN_SLACK_S = 0.25
USER_AGENT = "transcodes-webhooks/0.1"

Logger = structlog.stdlib.BoundLogger

_log = get_logger("consumer.delivery")


@dataclass(frozen=True)
class DeliveryConfig:
    timeout_s: float = 5.0
    pacing: bool = True
    policy: UrlPolicy = field(default_factory=UrlPolicy)
    circuit_threshold: int = FAILURE_THRESHOLD
    circuit_cool_down_s: float = COOL_DOWN_S
    max_connections: int = MAX_CONNECTIONS
    max_connections_per_host: int = MAX_CONNECTIONS_PER_HOST

    @classmethod
    def from_settings(cls, s: Settings) -> DeliveryConfig:
        return cls(
            timeout_s=s.webhook_timeout_s,
            pacing=s.webhook_pacing == "provider",
            policy=UrlPolicy(
                extra_hosts=tuple(s.webhook_extra_hosts),
                allow_insecure=s.webhook_allow_insecure_targets,
            ),
        )


@dataclass(frozen=True)
class DeliveryResult:
    """How one channel's delivery ended. `attempts` counts requests started (0 when nothing was
    sent: blocked by the URL policy, skipped, paced out); `detail` is safe to print."""

    channel_id: str
    channel_type: ChannelType
    outcome: Outcome
    status: int | None
    duration_ms: float
    attempts: int
    detail: str


# --- the connect-time half of the URL policy -------------------------------------------------


class BlockedAddressError(OSError):
    """The target's address (resolved, or literal) is in a forbidden range: nothing was sent."""

    def __init__(self) -> None:
        super().__init__("the target address is in a forbidden range")


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and drops forbidden addresses from every answer; raises
    `BlockedAddressError` when none is left. It runs on each connect, not once per URL."""

    def __init__(self, inner: AbstractResolver) -> None:
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        allowed = [a for a in answers if not forbidden_address(a["host"])]
        if not allowed:
            raise BlockedAddressError
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket(addr_info: AddrInfoType) -> socket.socket:
    """aiohttp socket factory: refuses a forbidden peer before connecting. It catches what the
    resolver never sees (aiohttp connects to IP-literal hosts without resolving them)."""
    family, type_, proto, _, sockaddr = addr_info
    if forbidden_address(str(sockaddr[0])):
        raise BlockedAddressError
    return socket.socket(family=family, type=type_, proto=proto)


# --- one attempt ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one request gave: the outcome, and what the retry decision needs."""

    outcome: Outcome
    status: int | None = None
    detail: str = ""
    retry_after: float | None = None
    retryable: bool = False  # a 5xx or a reset connection
    duration_s: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)


def retry_wait(attempt: Attempt, remaining_s: float) -> float | None:
    """Seconds to wait before the one retry, or None when there is no retry (pure).

    Retry only a 429 that said when, or a 5xx / reset connection (after its hint or
    `RETRY_BACKOFF_S`), and only when the wait plus a request (as long as this one took, at least
    `MIN_REQUEST_S`) fit in what remains of the budget.
    """
    if attempt.outcome is Outcome.RATE_LIMITED:
        if attempt.retry_after is None:
            return None
        wait = attempt.retry_after
    elif attempt.outcome is Outcome.FAILED and attempt.retryable:
        wait = attempt.retry_after if attempt.retry_after is not None else RETRY_BACKOFF_S
    else:
        return None
    if wait + max(attempt.duration_s, MIN_REQUEST_S) > remaining_s:
        return None
    return wait


def error_attempt(exc: BaseException, duration_s: float) -> Attempt:
    """Classify an exception from a request into an attempt (pure; details carry no URL)."""

    def done(outcome: Outcome, detail: str, retryable: bool = False) -> Attempt:
        return Attempt(outcome, None, detail, retryable=retryable, duration_s=duration_s)

    if _caused_by(exc, BlockedAddressError):
        return done(Outcome.BLOCKED, "the target address is in a forbidden range")
    if isinstance(exc, aiohttp.InvalidURL):
        return done(Outcome.BLOCKED, "the client refused the URL")
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return done(Outcome.FAILED, "name not resolved")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return done(Outcome.FAILED, "TLS handshake failed")
    if isinstance(exc, aiohttp.ClientConnectorError):
        refused = exc.os_error.errno == errno.ECONNREFUSED
        return done(Outcome.FAILED, "connection refused" if refused else "cannot connect")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return done(Outcome.FAILED, "connection closed by the endpoint", retryable=True)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return done(Outcome.FAILED, "answer cut off", retryable=True)
    if isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE):
        return done(Outcome.FAILED, "connection reset", retryable=True)
    if isinstance(exc, aiohttp.ClientResponseError):
        return done(Outcome.FAILED, "malformed answer")
    return done(Outcome.FAILED, f"connection error ({type(exc).__name__})")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return True
        stack += [current.__cause__, current.__context__, getattr(current, "os_error", None)]
    return False


async def _read_capped(response: aiohttp.ClientResponse, cap: int = BODY_CAP_BYTES) -> bytes:
    """Up to `cap` bytes of the body; if there is more the connection is dropped, not drained."""
    chunks: list[bytes] = []
    size = 0
    while size < cap:
        chunk = await response.content.read(cap - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    if not response.content.at_eof():
        response.close()
    return b"".join(chunks)


def _client_url(url: str) -> URL:
    # Sent exactly as configured: re-quoting could alter a signature (Teams `sig=`).
    return URL(url, encoded=url.isascii())


# --- the engine ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Progress:
    """What a channel's delivery got to, for when it is cut off from outside."""

    attempts: int = 0
    status: int | None = None
    breaker: CircuitBreaker | None = None


class Delivery:
    """The delivery engine; one per process. `async with Delivery(config) as d: ...`."""

    def __init__(
        self, config: DeliveryConfig, registry: Mapping[ChannelType, Channel] | None = None
    ) -> None:
        self._config = config
        # The registry itself, not a copy: channel modules register into it as they land.
        self._registry = CHANNELS if registry is None else registry
        self._session: aiohttp.ClientSession | None = None
        self._resolver: AbstractResolver | None = None
        self._breakers = Breakers(config.circuit_threshold, config.circuit_cool_down_s)
        self._pacer = Pacer()

    @property
    def config(self) -> DeliveryConfig:
        return self._config

    async def start(self) -> None:
        """Create the shared session (idempotent)."""
        if self._session is not None:
            return
        insecure = self._config.policy.allow_insecure
        if insecure:
            _log.warning(
                "webhook_url_policy_disabled",
                reason="WEBHOOK_ALLOW_INSECURE_TARGETS=true: http, any host and private, "
                "loopback and metadata addresses are allowed (tests and local demos only)",
            )
            self._resolver = None
        else:
            self._resolver = GuardedResolver(DefaultResolver())
        connector = aiohttp.TCPConnector(
            limit=self._config.max_connections,
            limit_per_host=self._config.max_connections_per_host,
            ttl_dns_cache=DNS_CACHE_S,
            keepalive_timeout=KEEPALIVE_S,
            resolver=self._resolver,
            socket_factory=None if insecure else guarded_socket,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self._config.timeout_s),
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": USER_AGENT},
            trust_env=False,  # no proxy from the environment: the guard must see the real peer
            raise_for_status=False,
        )

    async def close(self) -> None:
        """Close the session and its connections (idempotent)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        resolver, self._resolver = self._resolver, None
        if resolver is not None:
            await resolver.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def deliver(
        self,
        notification: Notification,
        channels: Sequence[ChannelConfig],
        **log_context: object,
    ) -> list[DeliveryResult]:
        """Post to every channel at once; one result per channel, in the same order.

        Never raises but `CancelledError` (cancelling it cancels the requests in flight), and
        returns within about the budget whatever the endpoints do.
        """
        if self._session is None:
            await self.start()
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self._deliver_one(notification, channel, log_context))
                for channel in channels
            ]
        return [task.result() for task in tasks]

    async def _deliver_one(
        self, notification: Notification, channel: ChannelConfig, log_context: Mapping[str, object]
    ) -> DeliveryResult:
        started = time.monotonic()
        deadline = started + self._config.timeout_s
        log = _log.bind(
            **log_context,
            channel_id=channel.id,
            channel_type=channel.type.value,
            url=channel.redacted_url,
        )
        progress = _Progress()
        try:
            async with asyncio.timeout(self._config.timeout_s + OVERRUN_SLACK_S):
                final = await self._run(notification, channel, deadline, log, progress)
        except TimeoutError:
            final = Attempt(Outcome.TIMEOUT, progress.status, "budget exhausted")
            _log_attempt(log, final, progress.attempts or 1, time.monotonic() - started)
            if progress.breaker is not None:
                self._record(channel, progress.breaker, final.outcome)
        except Exception as exc:  # noqa: BLE001  # never raise to the consumer: a bug ends `failed`
            final = Attempt(
                Outcome.FAILED, progress.status, f"internal error ({type(exc).__name__})"
            )
            # The type only: a bug's message may quote a token or a chat id.
            log.error("delivery_error", outcome=final.outcome.value, error_type=type(exc).__name__)
        elapsed = time.monotonic() - started
        metrics.deliveries.labels(channel.type.value, final.outcome.value).inc()
        metrics.delivery_duration.labels(channel.type.value).observe(elapsed)
        return DeliveryResult(
            channel_id=channel.id,
            channel_type=channel.type,
            outcome=final.outcome,
            status=final.status,
            duration_ms=round(elapsed * 1000, 1),
            attempts=progress.attempts,
            detail=final.detail,
        )

    async def _run(
        self,
        notification: Notification,
        channel: ChannelConfig,
        deadline: float,
        log: Logger,
        progress: _Progress,
    ) -> Attempt:
        module = self._registry.get(channel.type)
        if module is None:
            return _log_attempt(log, Attempt(Outcome.FAILED, detail="no renderer for type"), 1)
        # The breaker first: a channel whose circuit is open costs no rendering (a Teams card
        # is ~140 us; the isolation benchmark, docs/BENCHMARKS.md, spent 13% of its time there).
        breaker = self._breakers.get(channel.id, endpoint_key(channel.url, channel.chat_id))
        if not breaker.allow():
            return _log_attempt(log, Attempt(Outcome.SKIPPED, detail="circuit open"), 1)
        try:
            request = module.render(notification, channel)
        except Exception as exc:  # noqa: BLE001  # a renderer bug must not stop the others
            breaker.abandon()
            detail = f"render failed ({type(exc).__name__})"
            return _log_attempt(log, Attempt(Outcome.FAILED, detail=detail), 1)
        reason = check_url(request.url, channel.type, self._config.policy)
        if reason is not None:
            breaker.abandon()
            return _log_attempt(log, Attempt(Outcome.BLOCKED, detail=reason), 1)
        progress.breaker = breaker
        try:
            final = await self._send(request, channel, module, deadline, log, progress)
        except BaseException:
            breaker.abandon()  # cancelled, or cut off (then the caller records a timeout)
            raise
        progress.breaker = None
        self._record(channel, breaker, final.outcome)
        return final

    def _record(self, channel: ChannelConfig, breaker: CircuitBreaker, outcome: Outcome) -> None:
        before = breaker.state
        after = breaker.record(outcome)
        if after is not before or after is State.OPEN:
            metrics.circuit_open.labels(channel.id).set(1 if after is State.OPEN else 0)
        if after is State.OPEN and before is not State.OPEN:
            _log.warning(
                "circuit_opened",
                channel_id=channel.id,
                channel_type=channel.type.value,
                failures=breaker.failures,
                cool_down_s=self._config.circuit_cool_down_s,
            )
        elif after is State.CLOSED and before is not State.CLOSED:
            _log.info("circuit_closed", channel_id=channel.id, channel_type=channel.type.value)

    def _bucket(self, channel: ChannelConfig, module: Channel) -> TokenBucket | None:
        if not self._config.pacing:
            return None
        chat = channel.chat_id if channel.type is ChannelType.TELEGRAM else None
        rate = channel.rate_per_s or module.RATE_PER_S
        return self._pacer.bucket(endpoint_key(channel.url, chat), rate, max(1, module.BURST))

    async def _send(
        self,
        request: OutboundRequest,
        channel: ChannelConfig,
        module: Channel,
        deadline: float,
        log: Logger,
        progress: _Progress,
    ) -> Attempt:
        bucket = self._bucket(channel, module)
        reserve = min(MIN_REQUEST_S, self._config.timeout_s / 4)
        previous: Attempt | None = None
        for number in (1, 2):
            if bucket is not None and not await bucket.acquire(deadline - reserve):
                paced = Attempt(Outcome.RATE_LIMITED, detail="paced: budget exhausted")
                _log_attempt(log, paced, number)
                return previous or paced  # a retry that found no slot: the first answer stands
            progress.attempts = number
            attempt = await self._attempt(request, module, deadline)
            progress.status = attempt.status
            if bucket is not None:
                _pause_after(bucket, attempt)
            wait = retry_wait(attempt, deadline - time.monotonic()) if number == 1 else None
            _log_attempt(log, attempt, number, will_retry=wait is not None)
            if wait is None:
                return attempt
            previous = attempt
            if bucket is None or attempt.outcome is not Outcome.RATE_LIMITED:
                await asyncio.sleep(wait)  # with pacing, a 429 already paused the bucket
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, request: OutboundRequest, module: Channel, deadline: float) -> Attempt:
        assert self._session is not None  # noqa: S101  # start() ran in deliver()
        started = time.monotonic()
        status: int | None = None
        try:
            remaining = max(deadline - started, 0.0)
            async with (
                asyncio.timeout(remaining),
                self._session.request(
                    request.method,
                    _client_url(request.url),
                    data=request.body_bytes(),
                    headers=request.headers,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=remaining),
                ) as response,
            ):
                status = response.status
                headers = CIMultiDict(response.headers)
                body = await _read_capped(response)
        except TimeoutError:
            detail = "no answer within budget" if status is None else "answer too slow"
            return Attempt(Outcome.TIMEOUT, status, detail, duration_s=time.monotonic() - started)
        except (aiohttp.ClientError, OSError) as exc:
            return error_attempt(exc, time.monotonic() - started)
        duration = time.monotonic() - started
        if 300 <= status < 400:
            return Attempt(Outcome.BLOCKED, status, "redirect not followed", duration_s=duration)
        try:
            verdict = module.classify(status, headers, body)
        except Exception as exc:  # noqa: BLE001  # a classifier bug must not stop the others
            detail = f"answer not understood ({type(exc).__name__})"
            return Attempt(Outcome.FAILED, status, detail, duration_s=duration)
        return Attempt(
            verdict.outcome,
            status,
            verdict.detail,
            retry_after=verdict.retry_after,
            retryable=verdict.outcome is Outcome.FAILED and status >= 500,
            duration_s=duration,
            headers=headers,
        )


def _pause_after(bucket: TokenBucket, attempt: Attempt) -> None:
    """Hold the endpoint's queue back after a 429, or when the answer says its bucket is empty."""
    if attempt.outcome is Outcome.RATE_LIMITED and attempt.status == 429:
        asked = attempt.retry_after
        bucket.pause(asked if asked is not None else DEFAULT_429_PAUSE_S)
    hint = rate_limit_hint(attempt.headers)
    if hint is not None:
        bucket.pause(hint)


def _log_attempt(
    log: Logger,
    attempt: Attempt,
    number: int,
    duration_s: float | None = None,
    *,
    will_retry: bool = False,
) -> Attempt:
    seconds = attempt.duration_s if duration_s is None else duration_s
    fields: dict[str, object] = {
        "outcome": attempt.outcome.value,
        "status": attempt.status,
        "duration_ms": round(seconds * 1000, 1),
        "attempt": number,
        "detail": attempt.detail,
    }
    if will_retry:
        fields["will_retry"] = True
    if attempt.outcome is Outcome.DELIVERED:
        log.info("delivery", **fields)
    else:
        log.warning("delivery", **fields)
    return attempt
