"""The benchmark code at a tiny size, so that it cannot rot: one broker, one sink, seconds.

It asserts what the benchmark relies on (every record read, every record committed, every
delivery seen by the sink, the table and goals computed from the results), never a speed.
"""

from __future__ import annotations

import pytest

from bench import report
from bench.scenarios import filter as filter_path
from bench.scenarios import notify, steady
from bench.sink import SinkProcess

pytestmark = pytest.mark.kafka


async def test_the_filter_path_reads_and_commits_every_record(kafka_bootstrap: str) -> None:
    data = await filter_path.prepare(kafka_bootstrap, 300)
    raw = await filter_path.raw_getmany(kafka_bootstrap, data)
    reference = await filter_path.raw_getmany(kafka_bootstrap, data, decoding=True)
    service = await filter_path.service_path(kafka_bootstrap, data, timeout_s=30)
    assert [raw["records"], reference["records"], service["records"]] == [300, 300, 300]
    assert 400 <= data.bytes / data.records <= 800  # the "realistic" size
    assert service["rate"] > 0


async def test_the_notify_path_delivers_to_both_channels_and_the_table_reports_it(
    kafka_bootstrap: str,
) -> None:
    with SinkProcess(use_uvloop=False) as sink:
        data = await notify.prepare(kafka_bootstrap, 40)
        raw = await notify.raw_aiohttp(sink, data)
        service = await notify.service_path(sink, kafka_bootstrap, data)
        naive = await notify.naive(sink, kafka_bootstrap, data, max_records=10, max_seconds=10)
        latency = await steady.run(sink, kafka_bootstrap, per_s=50, seconds=1.0)
    assert [raw["deliveries"], service["deliveries"], naive["deliveries"]] == [80, 80, 20]
    assert latency["healthy_deliveries"] == latency["healthy_expected"] == 2 * latency["records"]
    assert latency["committed_all"]
    scenarios = {
        "notify": {"asyncio": {"raw": raw, "service": service, "naive": naive}},
        "latency": {"asyncio": latency},
    }
    goals = {g.name: g for g in report.goals(scenarios)}
    assert goals["2. notify path vs raw aiohttp"].met is (service["rate"] >= 0.7 * raw["rate"])
    assert goals["1. filter path vs raw getmany"].met is None  # not measured here
    assert "2 notify [asyncio]" in report.table(scenarios)
