"""The delivery engine against a real scripted HTTP sink on 127.0.0.1 (no mocks of aiohttp)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from consumer import metrics
from consumer.channel import ChannelType
from consumer.channels.base import OutboundRequest, Outcome, Verdict
from consumer.config import Settings
from consumer.delivery import (
    BODY_CAP_BYTES,
    MIN_REQUEST_S,
    RETRY_BACKOFF_S,
    Attempt,
    BlockedAddressError,
    Delivery,
    DeliveryConfig,
    GuardedResolver,
    error_attempt,
    guarded_socket,
    retry_wait,
)
from consumer.notification import Notification
from consumer.urlpolicy import UrlPolicy
from tests.support.fake_channel import FakeChannel, channel, fake_registry, sample_notification
from tests.support.sink import (
    Sink,
    hang,
    huge,
    ok,
    redirect,
    reset,
    retry_after,
    slow_body,
    status,
)

INSECURE = UrlPolicy(allow_insecure=True)
NOTE = sample_notification()
WHERE = {"topic": "audit-log", "partition": 0, "offset": 42, "project_id": "proj_1"}


def config(**overrides: Any) -> DeliveryConfig:
    values: dict[str, Any] = {"timeout_s": 2.0, "pacing": False, "policy": INSECURE}
    values.update(overrides)
    return DeliveryConfig(**values)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with Sink() as s:
        yield s


@pytest.fixture
async def delivery() -> AsyncIterator[Delivery]:
    async with Delivery(config(), registry=fake_registry()) as d:
        yield d


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def counted(channel_type: str, outcome: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "webhook_deliveries_total", {"channel_type": channel_type, "outcome": outcome}
    )
    return value or 0.0


# --- fan-out and the budget -------------------------------------------------------------------


async def test_fan_out_with_one_hanging_endpoint_delivers_the_others_at_once(sink: Sink) -> None:
    urls = {
        ChannelType.SLACK: sink.script("/slack", ok()),
        ChannelType.DISCORD: sink.script("/discord", ok(204, b"")),
        ChannelType.TEAMS: sink.script("/teams", hang()),
        ChannelType.KAKAOWORK: sink.script("/kakaowork", ok()),
        ChannelType.TELEGRAM: sink.script("/telegram", ok(200, b'{"ok":true}')),
    }
    channels = [channel(t.value, url, t) for t, url in urls.items()]
    async with Delivery(config(timeout_s=5.0, pacing=True), registry=fake_registry()) as d:
        started = time.monotonic()
        results = await d.deliver(NOTE, channels, **WHERE)
        elapsed = time.monotonic() - started

    outcomes = {r.channel_id: r.outcome for r in results}
    assert outcomes == {
        "slack": Outcome.DELIVERED,
        "discord": Outcome.DELIVERED,
        "teams": Outcome.TIMEOUT,
        "kakaowork": Outcome.DELIVERED,
        "telegram": Outcome.DELIVERED,
    }
    for path in ("/slack", "/discord", "/kakaowork", "/telegram"):
        (arrived,) = sink.requests(path)
        assert arrived.at - started < 1.0  # at once, not after the hanging one
        assert arrived.json["text"].startswith("[Audit] webhook:test")
    hung = next(r for r in results if r.channel_id == "teams")
    assert 4.8 <= hung.duration_ms / 1000 <= 5.5
    assert hung.attempts == 1
    assert sink.count("/teams") == 1  # it did reach the endpoint, which never answered
    assert 4.8 <= elapsed < 5.6


async def test_results_come_back_in_channel_order(sink: Sink, delivery: Delivery) -> None:
    channels = [channel(f"c{i}", sink.script(f"/c{i}", ok())) for i in range(8)]
    results = await delivery.deliver(NOTE, channels)
    assert [r.channel_id for r in results] == [f"c{i}" for i in range(8)]
    assert {r.outcome for r in results} == {Outcome.DELIVERED}


async def test_no_channels_means_no_results(delivery: Delivery) -> None:
    assert await delivery.deliver(NOTE, []) == []


async def test_a_slow_body_ends_timeout_within_the_budget(sink: Sink) -> None:
    url = sink.script("/slow", slow_body(3.0))
    async with Delivery(config(timeout_s=1.0), registry=fake_registry()) as d:
        started = time.monotonic()
        (result,) = await d.deliver(NOTE, [channel("slow", url)])
    assert result.outcome is Outcome.TIMEOUT
    assert result.status == 200
    assert result.detail == "answer too slow"
    assert time.monotonic() - started < 1.5


async def test_a_10_mb_answer_is_read_only_up_to_the_cap(sink: Sink) -> None:
    registry = fake_registry()
    url = sink.script("/huge", huge(10 * 1024 * 1024))
    async with Delivery(config(), registry=registry) as d:
        (result,) = await d.deliver(NOTE, [channel("huge", url)])
    assert result.outcome is Outcome.DELIVERED
    assert registry[ChannelType.SLACK].body_sizes == [BODY_CAP_BYTES]


# --- outcomes and the retry rule --------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviours", "outcome", "http_status", "attempts", "detail"),
    [
        pytest.param((ok(),), Outcome.DELIVERED, 200, 1, "", id="200 ok is delivered"),
        pytest.param((ok(202, b""),), Outcome.DELIVERED, 202, 1, "", id="202 is delivered"),
        pytest.param((ok(204, b""),), Outcome.DELIVERED, 204, 1, "", id="204 is delivered"),
        pytest.param(
            (status(400, b"invalid_payload"),),
            Outcome.REJECTED,
            400,
            1,
            "http 400",
            id="400 is rejected and never retried",
        ),
        pytest.param(
            (status(404, b"no_service"),),
            Outcome.REJECTED,
            404,
            1,
            "http 404",
            id="404 is rejected and never retried",
        ),
        pytest.param(
            (status(500), ok()),
            Outcome.DELIVERED,
            200,
            2,
            "",
            id="500 then 200 is delivered on the retry",
        ),
        pytest.param(
            (status(503),),
            Outcome.FAILED,
            503,
            2,
            "http 503",
            id="a 5xx twice fails after one retry",
        ),
        pytest.param(
            (retry_after(0.3), ok()),
            Outcome.DELIVERED,
            200,
            2,
            "",
            id="429 with a short Retry-After is retried once and delivered",
        ),
        pytest.param(
            (retry_after(0.3, json=True), ok()),
            Outcome.DELIVERED,
            200,
            2,
            "",
            id="429 with a short JSON retry_after is retried once and delivered",
        ),
        pytest.param(
            (retry_after(10), ok()),
            Outcome.RATE_LIMITED,
            429,
            1,
            "http 429",
            id="429 with a long Retry-After is not retried",
        ),
        pytest.param(
            (status(429), ok()),
            Outcome.RATE_LIMITED,
            429,
            1,
            "http 429",
            id="429 without a hint is not retried",
        ),
        pytest.param(
            (redirect("http://example.invalid/x"),),
            Outcome.BLOCKED,
            302,
            1,
            "redirect not followed",
            id="a redirect is not followed",
        ),
        pytest.param(
            (reset(), ok()),
            Outcome.DELIVERED,
            200,
            2,
            "",
            id="a reset connection is retried",
        ),
        pytest.param(
            (reset(),),
            Outcome.FAILED,
            None,
            2,
            "connection reset",
            id="a connection reset twice fails after one retry",
        ),
    ],
)
async def test_outcomes_and_retries(
    sink: Sink,
    delivery: Delivery,
    behaviours: tuple[Any, ...],
    outcome: Outcome,
    http_status: int | None,
    attempts: int,
    detail: str,
) -> None:
    url = sink.script("/hook", *behaviours)
    (result,) = await delivery.deliver(NOTE, [channel("c", url)])
    assert result.outcome is outcome
    assert result.status == http_status
    assert result.attempts == attempts
    assert result.detail == detail
    assert sink.count("/hook") == attempts


async def test_the_retry_after_429_waits_as_asked(sink: Sink, delivery: Delivery) -> None:
    url = sink.script("/hook", retry_after(0.4), ok())
    await delivery.deliver(NOTE, [channel("c", url)])
    first, second = sink.requests("/hook")
    assert second.at - first.at >= 0.4


async def test_a_refused_connection_fails_without_retry(delivery: Delivery) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    (result,) = await delivery.deliver(NOTE, [channel("c", url)])
    assert result.outcome is Outcome.FAILED
    assert result.detail == "connection refused"
    assert result.attempts == 1


async def test_a_redirect_never_reaches_the_other_host(sink: Sink) -> None:
    async with Sink() as elsewhere:
        target = elsewhere.script("/internal", ok())
        url = sink.script("/hook", redirect(target.replace("127.0.0.1", "localhost")))
        async with Delivery(config(), registry=fake_registry()) as d:
            (result,) = await d.deliver(NOTE, [channel("c", url)])
        assert result.outcome is Outcome.BLOCKED
        assert result.detail == "redirect not followed"
        assert elsewhere.received == []


@pytest.mark.parametrize(
    ("attempt", "remaining", "expected"),
    [
        pytest.param(
            Attempt(Outcome.RATE_LIMITED, 429, retry_after=1.0, duration_s=0.1),
            4.9,
            1.0,
            id="a 429 with a hint that fits waits as asked",
        ),
        pytest.param(
            Attempt(Outcome.RATE_LIMITED, 429, retry_after=4.6, duration_s=0.1),
            4.9,
            None,
            id="a 429 whose wait plus a request does not fit is not retried",
        ),
        pytest.param(
            Attempt(Outcome.RATE_LIMITED, 429, duration_s=0.1),
            4.9,
            None,
            id="a 429 without a hint is not retried",
        ),
        pytest.param(
            Attempt(Outcome.FAILED, 500, retryable=True, duration_s=0.1),
            4.9,
            RETRY_BACKOFF_S,
            id="a 5xx is retried after the short backoff",
        ),
        pytest.param(
            Attempt(Outcome.FAILED, 503, retry_after=2.0, retryable=True, duration_s=0.1),
            4.9,
            2.0,
            id="a 5xx with a hint waits as asked",
        ),
        pytest.param(
            Attempt(Outcome.FAILED, 500, retryable=True, duration_s=3.0),
            3.1,
            None,
            id="a slow 5xx is not retried when another as slow would not fit",
        ),
        pytest.param(
            Attempt(Outcome.FAILED, None, retryable=True, duration_s=0.0),
            RETRY_BACKOFF_S + MIN_REQUEST_S - 0.01,
            None,
            id="a reset is not retried when less than a minimal request remains",
        ),
        pytest.param(
            Attempt(Outcome.FAILED, None, "connection refused", duration_s=0.01),
            4.9,
            None,
            id="a refused connection is not retried",
        ),
        pytest.param(
            Attempt(Outcome.REJECTED, 400, retry_after=0.1, duration_s=0.1),
            4.9,
            None,
            id="a 4xx is never retried even with a hint",
        ),
        pytest.param(Attempt(Outcome.TIMEOUT), 4.9, None, id="a timeout is not retried"),
        pytest.param(Attempt(Outcome.DELIVERED, 200), 4.9, None, id="delivered needs nothing"),
    ],
)
def test_retry_wait(attempt: Attempt, remaining: float, expected: float | None) -> None:
    assert retry_wait(attempt, remaining) == expected


# --- circuit breaker --------------------------------------------------------------------------


async def test_the_circuit_opens_after_repeated_failures_and_closes_again(sink: Sink) -> None:
    url = sink.script("/flaky", status(500))
    ch = channel("flaky-slack", url)
    cfg = config(circuit_threshold=2, circuit_cool_down_s=0.3)
    gauge = metrics.circuit_open.labels("flaky-slack")
    async with Delivery(cfg, registry=fake_registry()) as d:
        for _ in range(2):
            (result,) = await d.deliver(NOTE, [ch])
            assert result.outcome is Outcome.FAILED
        assert gauge._value.get() == 1.0
        sent = sink.count("/flaky")

        (skipped,) = await d.deliver(NOTE, [ch])
        assert skipped.outcome is Outcome.SKIPPED
        assert skipped.attempts == 0
        assert skipped.detail == "circuit open"
        assert sink.count("/flaky") == sent  # nothing reached the endpoint

        await asyncio.sleep(0.35)
        sink.script("/flaky", ok())
        (probe,) = await d.deliver(NOTE, [ch])
        assert probe.outcome is Outcome.DELIVERED
        assert gauge._value.get() == 0.0
        (after,) = await d.deliver(NOTE, [ch])
        assert after.outcome is Outcome.DELIVERED


async def test_an_open_circuit_does_not_touch_other_channels(sink: Sink) -> None:
    bad = channel("bad", sink.script("/bad", status(500)))
    good = channel("good", sink.script("/good", ok()))
    async with Delivery(config(circuit_threshold=1), registry=fake_registry()) as d:
        await d.deliver(NOTE, [bad, good])
        results = await d.deliver(NOTE, [bad, good])
    assert [r.outcome for r in results] == [Outcome.SKIPPED, Outcome.DELIVERED]


# --- pacing -----------------------------------------------------------------------------------


async def test_a_burst_beyond_the_budget_queues_briefly_then_ends_rate_limited(
    sink: Sink,
) -> None:
    url = sink.script("/paced", ok())
    registry = fake_registry(rate_per_s=4.0, burst=2)
    async with Delivery(config(timeout_s=1.0, pacing=True), registry=registry) as d:
        started = time.monotonic()
        batches = await asyncio.gather(*(d.deliver(NOTE, [channel("p", url)]) for _ in range(8)))
        elapsed = time.monotonic() - started
    results = [r for batch in batches for r in batch]
    delivered = [r for r in results if r.outcome is Outcome.DELIVERED]
    paced = [r for r in results if r.outcome is Outcome.RATE_LIMITED]
    # burst 2 at once, then one every 0.25 s until 0.75 s (the budget less the request reserve)
    assert len(delivered) == 5
    assert len(paced) == 3
    assert {r.detail for r in paced} == {"paced: budget exhausted"}
    assert {r.attempts for r in paced} == {0}
    arrivals = [r.at for r in sink.requests("/paced")]
    assert len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] >= 0.7  # spread out, not sent in one go
    assert elapsed < 1.5


async def test_pacing_off_sends_everything_at_once(sink: Sink) -> None:
    url = sink.script("/unpaced", ok())
    registry = fake_registry(rate_per_s=1.0, burst=1)
    async with Delivery(config(timeout_s=1.0, pacing=False), registry=registry) as d:
        batches = await asyncio.gather(*(d.deliver(NOTE, [channel("u", url)]) for _ in range(8)))
    assert {r.outcome for batch in batches for r in batch} == {Outcome.DELIVERED}


async def test_a_rate_override_on_the_channel_wins(sink: Sink) -> None:
    url = sink.script("/override", ok())
    registry = fake_registry(rate_per_s=0.1, burst=1)
    async with Delivery(config(timeout_s=1.0, pacing=True), registry=registry) as d:
        batches = await asyncio.gather(
            *(d.deliver(NOTE, [channel("o", url, rate_per_s=20)]) for _ in range(4))
        )
    assert {r.outcome for batch in batches for r in batch} == {Outcome.DELIVERED}


async def test_telegram_chats_behind_one_bot_are_paced_separately(sink: Sink) -> None:
    url = sink.script("/bot123:tok/sendMessage", ok())
    registry = fake_registry(rate_per_s=0.1, burst=1)
    chats = [channel(f"tg{i}", url, ChannelType.TELEGRAM, chat_id=f"-10{i}") for i in range(3)]
    async with Delivery(config(timeout_s=1.0, pacing=True), registry=registry) as d:
        results = await d.deliver(NOTE, chats)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    assert sorted(b["chat_id"] for b in sink.bodies("/bot123:tok/sendMessage")) == [
        "-100",
        "-101",
        "-102",
    ]


async def test_a_429_pauses_the_endpoint_so_the_next_messages_wait(sink: Sink) -> None:
    url = sink.script("/limited", retry_after(10), ok())
    registry = fake_registry(rate_per_s=10.0, burst=5)
    async with Delivery(config(timeout_s=1.0, pacing=True), registry=registry) as d:
        (first,) = await d.deliver(NOTE, [channel("l", url)])
        (second,) = await d.deliver(NOTE, [channel("l", url)])
    assert first.outcome is Outcome.RATE_LIMITED
    assert first.status == 429
    assert second.outcome is Outcome.RATE_LIMITED
    assert second.detail == "paced: budget exhausted"
    assert sink.count("/limited") == 1  # the endpoint was not hammered


# --- URL policy and the connect-time guard ----------------------------------------------------


async def test_ssrf_targets_end_blocked_without_reaching_the_sink(sink: Sink) -> None:
    sink_port = sink.port
    cases = [
        channel("private-literal", "https://10.0.0.1/hook"),
        channel("loopback-literal", f"https://127.0.0.1:{sink_port}/hook"),
        channel("decimal-loopback", f"http://2130706433:{sink_port}/hook"),
        channel("hex-loopback", f"https://0x7f.1:{sink_port}/hook"),
        channel("metadata", "https://169.254.169.254/latest/meta-data"),
        channel("plain-http", sink.url("/hook")),
        channel("name-to-loopback", "https://localhost/hook"),
    ]
    policy = UrlPolicy(extra_hosts=("localhost",))
    async with Delivery(config(policy=policy), registry=fake_registry()) as d:
        results = await d.deliver(NOTE, cases)
    assert {r.channel_id: r.outcome for r in results} == {c.id: Outcome.BLOCKED for c in cases}
    by_id = {r.channel_id: r for r in results}
    # localhost passes the host check (extra host): the connect-time guard refused it
    assert by_id["name-to-loopback"].detail == "the target address is in a forbidden range"
    assert by_id["name-to-loopback"].attempts == 1
    assert by_id["plain-http"].detail == "only https URLs are allowed"
    assert by_id["private-literal"].attempts == 0
    assert sink.received == []


class FixedResolver(AbstractResolver):
    """A resolver with fixed answers: stands in for DNS (a rebinding name, say)."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=a,
                port=port,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for a in self.addresses
        ]

    async def close(self) -> None:
        return None


async def test_the_guarded_resolver_drops_forbidden_answers_and_refuses_when_none_is_left() -> None:
    mixed = GuardedResolver(FixedResolver(["127.0.0.1", "93.184.215.14", "::1", "10.0.0.8"]))
    assert [a["host"] for a in await mixed.resolve("rebind.example", 443)] == ["93.184.215.14"]
    only_private = GuardedResolver(FixedResolver(["127.0.0.1", "169.254.169.254", "fd00::1"]))
    with pytest.raises(BlockedAddressError):
        await only_private.resolve("rebind.example", 443)


async def test_the_connect_time_guard_stops_a_real_client_before_the_sink(sink: Sink) -> None:
    url_by_name = f"http://localhost:{sink.port}/guarded"
    url_by_literal = f"http://127.0.0.1:{sink.port}/guarded"
    guarded = aiohttp.TCPConnector(
        resolver=GuardedResolver(DefaultResolver()), socket_factory=guarded_socket
    )
    async with aiohttp.ClientSession(connector=guarded) as session:
        for url in (url_by_name, url_by_literal):
            with pytest.raises(aiohttp.ClientConnectorError) as caught:
                await session.post(url, json={})
            assert error_attempt(caught.value, 0.0).outcome is Outcome.BLOCKED
    assert sink.received == []
    # the same requests without the guard do reach the sink: the guard is what stopped them
    async with aiohttp.ClientSession() as session:
        for url in (url_by_name, url_by_literal):
            async with session.post(url, json={}) as response:
                assert response.status == 200
    assert sink.count("/guarded") == 2


async def test_the_insecure_flag_warns_once_at_start() -> None:
    with structlog.testing.capture_logs() as logs:
        async with Delivery(config(policy=INSECURE), registry=fake_registry()):
            pass
        async with Delivery(config(policy=UrlPolicy()), registry=fake_registry()):
            pass
    warnings = [e for e in logs if e["event"] == "webhook_url_policy_disabled"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"


# --- logs and metrics -------------------------------------------------------------------------


async def test_each_attempt_logs_one_line_with_context(sink: Sink, delivery: Delivery) -> None:
    url = sink.script("/hook", status(500), ok())
    with structlog.testing.capture_logs() as logs:
        await delivery.deliver(NOTE, [channel("ops-slack", url)], **WHERE)
    lines = [e for e in logs if e["event"] == "delivery"]
    assert [(e["attempt"], e["outcome"], e["status"], e["log_level"]) for e in lines] == [
        (1, "failed", 500, "warning"),
        (2, "delivered", 200, "info"),
    ]
    assert lines[0]["will_retry"] is True
    for entry in lines:
        assert {k: entry[k] for k in WHERE} == WHERE
        assert entry["channel_id"] == "ops-slack"
        assert entry["channel_type"] == "slack"
        assert entry["url"] == f"http://127.0.0.1:{sink.port}/***"
        assert entry["duration_ms"] >= 0


async def test_no_secret_part_of_any_url_reaches_the_logs_or_results(sink: Sink) -> None:
    secret = "SECRETPART"
    chat = "-100SECRETCHAT42"
    channels = [
        channel("ok", sink.script(f"/services/T0/B0/{secret}", ok())),
        channel("five", sink.script(f"/api/webhooks/1/{secret}", status(500))),
        channel(
            "hang", sink.script(f"/workflows/{secret}?sig={secret}", hang()), ChannelType.TEAMS
        ),
        channel(
            "tg",
            sink.script(f"/bot123:{secret}/sendMessage", retry_after(10, json=True)),
            ChannelType.TELEGRAM,
            chat_id=chat,
        ),
        channel("refused", f"http://127.0.0.1:{closed_port()}/{secret}"),
    ]
    blocked = [
        channel("blocked", f"https://evil.example/{secret}"),
        channel("literal", f"https://user:{secret}@10.0.0.1/{secret}"),
        channel("rebind", f"https://localhost/{secret}"),
    ]
    strict = UrlPolicy(extra_hosts=("localhost",))
    with structlog.testing.capture_logs() as logs:
        async with Delivery(config(timeout_s=1.0, pacing=True), registry=fake_registry()) as d:
            results = await d.deliver(NOTE, channels, **WHERE)
        async with Delivery(config(policy=strict), registry=fake_registry()) as d:
            results += await d.deliver(NOTE, blocked, **WHERE)
    assert len([e for e in logs if e["event"] == "delivery"]) >= len(channels) + len(blocked)
    text = repr(logs) + repr(results)
    assert secret not in text
    assert "SECRETCHAT" not in text
    assert chat not in text


async def test_final_outcomes_are_counted_and_timed(sink: Sink, delivery: Delivery) -> None:
    before_delivered = counted("discord", "delivered")
    before_rejected = counted("discord", "rejected")
    before_timed = metrics.REGISTRY.get_sample_value(
        "webhook_delivery_duration_seconds_count", {"channel_type": "discord"}
    )
    channels = [
        channel("d1", sink.script("/d1", status(500), ok(204, b"")), ChannelType.DISCORD),
        channel("d2", sink.script("/d2", status(400)), ChannelType.DISCORD),
    ]
    await delivery.deliver(NOTE, channels)
    assert counted("discord", "delivered") == before_delivered + 1  # one, though two attempts
    assert counted("discord", "rejected") == before_rejected + 1
    after_timed = metrics.REGISTRY.get_sample_value(
        "webhook_delivery_duration_seconds_count", {"channel_type": "discord"}
    )
    assert after_timed == (before_timed or 0) + 2


# --- robustness -------------------------------------------------------------------------------


class BrokenRenderer(FakeChannel):
    def render(self, notification: Notification, channel: Any) -> OutboundRequest:
        raise RuntimeError("renderer bug")


class BrokenClassifier(FakeChannel):
    def classify(self, status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
        raise KeyError("classifier bug")


async def test_a_broken_channel_module_fails_its_channel_only(sink: Sink) -> None:
    registry: dict[ChannelType, Any] = {
        ChannelType.SLACK: FakeChannel(ChannelType.SLACK),
        ChannelType.DISCORD: BrokenRenderer(ChannelType.DISCORD),
        ChannelType.TEAMS: BrokenClassifier(ChannelType.TEAMS),
    }
    channels = [
        channel("slack", sink.script("/slack", ok())),
        channel("discord", sink.script("/discord", ok()), ChannelType.DISCORD),
        channel("teams", sink.script("/teams", ok()), ChannelType.TEAMS),
        channel("kakao", sink.script("/kakao", ok()), ChannelType.KAKAOWORK),
    ]
    async with Delivery(config(), registry=registry) as d:
        results = await d.deliver(NOTE, channels)
    assert [(r.outcome, r.detail) for r in results] == [
        (Outcome.DELIVERED, ""),
        (Outcome.FAILED, "render failed (RuntimeError)"),
        (Outcome.FAILED, "answer not understood (KeyError)"),
        (Outcome.FAILED, "no renderer for type"),
    ]


class ExplodingRegistry(dict[ChannelType, Any]):
    def get(self, key: Any, default: Any = None) -> Any:
        raise RuntimeError("registry bug with https://hooks.slack.com/services/SECRETPART")


async def test_an_engine_bug_ends_failed_and_is_logged_without_its_message(sink: Sink) -> None:
    url = sink.script("/c", ok())
    with structlog.testing.capture_logs() as logs:
        async with Delivery(config(), registry=ExplodingRegistry()) as d:
            (result,) = await d.deliver(NOTE, [channel("c", url)], **WHERE)
    assert result.outcome is Outcome.FAILED
    assert result.detail == "internal error (RuntimeError)"
    (entry,) = [e for e in logs if e["event"] == "delivery_error"]
    assert entry["error_type"] == "RuntimeError"
    assert entry["channel_id"] == "c"
    assert "SECRETPART" not in repr(logs)
    assert sink.received == []


async def test_cancelling_deliver_cancels_the_requests_in_flight(sink: Sink) -> None:
    url = sink.script("/hang", hang())
    fast = sink.script("/fast", ok())
    async with Delivery(config(timeout_s=5.0), registry=fake_registry()) as d:
        task = asyncio.create_task(d.deliver(NOTE, [channel("h", url)]))
        await sink.wait_for("/hang", 1)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 0.5
        # the engine is still usable afterwards
        (result,) = await d.deliver(NOTE, [channel("f", fast)])
        assert result.outcome is Outcome.DELIVERED


async def test_deliver_starts_the_session_on_first_use_and_close_is_idempotent(
    sink: Sink,
) -> None:
    d = Delivery(config(), registry=fake_registry())
    (result,) = await d.deliver(NOTE, [channel("c", sink.script("/c", ok()))])
    assert result.outcome is Outcome.DELIVERED
    await d.close()
    await d.close()


def test_config_from_settings() -> None:
    settings = Settings(
        webhook_timeout_s=3.5,
        webhook_pacing="off",
        webhook_extra_hosts="chat.example.com, *.hooks.example.org",
        webhook_allow_insecure_targets=True,
    )
    cfg = DeliveryConfig.from_settings(settings)
    assert cfg.timeout_s == 3.5
    assert cfg.pacing is False
    assert cfg.policy == UrlPolicy(("chat.example.com", "*.hooks.example.org"), True)
    assert DeliveryConfig.from_settings(Settings()).pacing is True
