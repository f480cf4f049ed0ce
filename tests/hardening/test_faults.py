"""Faults around the consumer: the service keeps going, commits, and says what happened.

One run of the real service (`fault_run`) meets, at once:
- a sink that answers a few requests, then resets connections for a while, then recovers;
- a channel on a host that does not resolve (`*.invalid`);
- a dead-letter topic that refuses records over 1 KiB, so some poison records cannot be parked.
A neighbour channel of the same project must get every record meanwhile, and every offset must be
committed. The broker itself stopped and restarted mid-stream, and kill -9, are in
tests/test_runtime_process.py (`test_the_service_rides_out_a_broker_restart`,
`test_kill_9_mid_burst_loses_nothing_and_replays_little`).

DNS failure under the secure URL policy (no insecure flag, the `.invalid` host allowed through
`WEBHOOK_EXTRA_HOSTS`) is checked on the delivery engine directly, with all five channel types.
"""

from __future__ import annotations

import time

import pytest

from consumer import metrics
from consumer.channel import ChannelConfig, ChannelType
from consumer.channels.base import Outcome
from consumer.delivery import Delivery, DeliveryConfig
from consumer.message import test_notification
from consumer.urlpolicy import UrlPolicy
from tests.hardening.conftest import FAULTS, RESETS, FaultRun
from tests.hardening.credentials import CHAT_ID, secret_url
from tests.hardening.runs import metric
from tests.support.kafka import unique


def deliveries(run: FaultRun, channel_id: str) -> list[dict[str, object]]:
    return [e for e in run.run.events("delivery") if e.get("channel_id") == channel_id]


@pytest.mark.kafka
def test_the_neighbour_got_every_record_and_everything_was_committed(fault_run: FaultRun) -> None:
    run = fault_run.run
    slack = fault_run.at(ChannelType.SLACK)
    assert len(slack) == fault_run.valid == 20
    assert {r.json["text"].split("\n")[0] for r in slack} == {
        f"[Audit] fault:{n}" for n in range(20)
    }
    assert fault_run.alive_at_end
    assert run.exit_code == 0
    assert run.events("service_crashed") == []


@pytest.mark.kafka
def test_connections_reset_mid_stream_are_retried_and_counted(fault_run: FaultRun) -> None:
    lines = deliveries(fault_run, f"{FAULTS}-discord")
    resets = [
        e
        for e in lines
        if e["outcome"] == "failed"
        and e["detail"]
        in ("connection reset", "connection closed by the endpoint", "answer cut off")
    ]
    assert len(resets) == RESETS  # every reset the sink made was seen and logged
    assert any(e.get("will_retry") for e in resets)
    delivered = metric(
        fault_run.metrics, "webhook_deliveries_total", channel_type="discord", outcome="delivered"
    )
    failed = metric(
        fault_run.metrics, "webhook_deliveries_total", channel_type="discord", outcome="failed"
    )
    assert delivered + failed == fault_run.valid  # one final outcome per record
    assert failed <= RESETS // 2  # a record fails only when its retry is reset too
    # every record once, plus a retry for each reset that was not itself a retry
    assert len(fault_run.at(ChannelType.DISCORD)) == fault_run.valid + RESETS - failed


@pytest.mark.kafka
def test_an_unresolvable_host_fails_fast_then_its_circuit_opens(fault_run: FaultRun) -> None:
    lines = deliveries(fault_run, f"{FAULTS}-dns")
    failed = [e for e in lines if e["outcome"] == "failed"]
    skipped = [e for e in lines if e["outcome"] == "skipped"]
    assert len(failed) >= 5
    assert {e["detail"] for e in failed} == {"name not resolved"}
    assert all(float(str(e["duration_ms"])) < 5000 for e in failed)  # not a 5 s timeout
    assert len(failed) + len(skipped) == fault_run.valid
    opened = [
        e for e in fault_run.run.events("circuit_opened") if e["channel_id"] == f"{FAULTS}-dns"
    ]
    assert len(opened) >= 1  # once, or again after a probe if the run outlasted the cool-down
    assert all(fault_run.dns_host in str(e["url"]) and "***" in str(e["url"]) for e in lines)


@pytest.mark.kafka
def test_a_failing_dead_letter_topic_is_logged_counted_and_passed(fault_run: FaultRun) -> None:
    run = fault_run.run
    poison = sorted(fault_run.small_poison + fault_run.big_poison)
    assert sorted(e["offset"] for e in run.events("poison_record")) == poison
    failures = run.events("dlq_publish_failed")
    failed = sorted(int(str(e["offset"])) for e in failures)
    # Every oversize record fails. A small one published in the same batch as an oversize one
    # fails with it (aiokafka does not split a refused batch); it is logged and counted alike.
    assert set(fault_run.big_poison) <= set(failed) <= set(poison)
    assert all(e["level"] == "error" and e["dlq_topic"] == run.dlq for e in failures)
    text = fault_run.metrics
    assert metric(text, "webhook_dlq_published_total", outcome="failed") == len(failed)
    assert metric(text, "webhook_dlq_published_total", outcome="ok") == len(poison) - len(failed)
    parked = sorted(int(d.headers["x-source-offset"]) for d in fault_run.dead)
    assert parked == sorted(set(poison) - set(failed))
    # the records after the failed publishes were still delivered, and all were committed
    assert len(fault_run.at(ChannelType.SLACK)) == fault_run.valid
    assert run.produced[run.audit] == fault_run.valid + len(poison)


@pytest.mark.parametrize("channel_type", list(ChannelType), ids=lambda t: f"a {t.value} channel")
async def test_dns_failure_under_the_secure_policy_fails_fast(channel_type: ChannelType) -> None:
    host = f"hooks.{unique('nxdomain')}.invalid"
    channel = ChannelConfig(
        id="nx",
        project_id="p",
        type=channel_type,
        url=secret_url(f"https://{host}", channel_type, "nx"),
        chat_id=CHAT_ID if channel_type is ChannelType.TELEGRAM else None,
    )
    config = DeliveryConfig(
        timeout_s=5.0, pacing=False, policy=UrlPolicy(extra_hosts=("*.invalid",))
    )
    before = (
        metrics.REGISTRY.get_sample_value(
            "webhook_deliveries_total", {"channel_type": channel_type.value, "outcome": "failed"}
        )
        or 0.0
    )
    started = time.monotonic()
    async with Delivery(config) as delivery:
        (result,) = await delivery.deliver(test_notification("p"), [channel])
    took = time.monotonic() - started
    assert result.outcome is Outcome.FAILED
    assert result.detail == "name not resolved"
    assert result.attempts == 1
    assert took < 4.0  # failed at once, not at the end of the 5 s budget
    after = metrics.REGISTRY.get_sample_value(
        "webhook_deliveries_total", {"channel_type": channel_type.value, "outcome": "failed"}
    )
    assert after == before + 1
