"""The poison and hostile corpora through the real consumer (`webhook-consumer run`, one run).

Every record sits between two valid neighbours in its topic. A poison record must be counted,
logged once without its value, dead-lettered byte for byte and committed; a hostile but valid
record must be delivered to all five channel types within every limit (or stay silent when the
rules say so); no record may crash or stall the consumer or hold back its neighbours.
"""

from __future__ import annotations

import re
from typing import Final

import orjson
import pytest

from consumer.channel import ChannelType
from consumer.decode import decode
from consumer.errors import DecodeError
from tests.hardening.conftest import CORPUS, DECOY, NEIGHBOURS, CorpusRun
from tests.hardening.corpus import HOSTILE, POISON, Case
from tests.hardening.reader import pipeline, problems
from tests.hardening.runs import metric

pytestmark = pytest.mark.kafka

MARKERS: Final = [m for case in CORPUS for m in case.markers]


def case_id(case: Case) -> str:
    return case.id


def poison_lines(corpus_run: CorpusRun) -> list[dict[str, object]]:
    return corpus_run.run.events("poison_record")


@pytest.mark.parametrize("case", POISON, ids=case_id)
def test_a_poison_record_is_logged_once_naming_the_field_not_the_value(
    corpus_run: CorpusRun, case: Case
) -> None:
    placed = corpus_run.placed_case(case)
    lines = [
        e
        for e in poison_lines(corpus_run)
        if e["topic"] == placed.topic and e["offset"] == placed.offset
    ]
    assert len(lines) == 1, lines
    (line,) = lines
    expected = decode_error(case, placed.value)
    assert line["error"] == str(expected)
    assert line["dlq"] == corpus_run.run.dlq
    assert line["level"] == "warning"
    for marker in case.markers:
        assert marker not in orjson.dumps(line).decode()


@pytest.mark.parametrize("case", POISON, ids=case_id)
def test_a_poison_record_is_dead_lettered_byte_for_byte(corpus_run: CorpusRun, case: Case) -> None:
    placed = corpus_run.placed_case(case)
    found = [
        d
        for d in corpus_run.dead
        if d.headers["x-source-topic"] == placed.topic.encode()
        and d.headers["x-source-offset"] == str(placed.offset).encode()
    ]
    assert len(found) == 1
    (dead,) = found
    assert dead.value == placed.value
    assert dead.headers["x-source-partition"] == b"0"
    error = dead.headers["x-error"].decode()
    assert error == str(decode_error(case, placed.value))
    for marker in case.markers:
        assert marker not in error


def decode_error(case: Case, value: bytes | None) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        decode(case.schema, value)
    assert caught.value.field == case.field
    assert case.reason in caught.value.reason
    return caught.value


def test_no_marker_of_any_record_reaches_the_logs(corpus_run: CorpusRun) -> None:
    output = corpus_run.run.output
    leaked = [m for m in MARKERS if m in output]
    assert leaked == []
    assert len(MARKERS) >= 30  # the check above looked for something


def test_each_record_is_counted_once_by_what_it_was(corpus_run: CorpusRun) -> None:
    text, run = corpus_run.metrics, corpus_run.run
    for schema, topic in (("audit-log", run.audit), ("hosted-auth-sessions", run.session)):
        cases = [c for c in CORPUS if c.schema == schema]
        poison = sum(c.expect == "poison" for c in cases)
        total = len(cases) + corpus_run.neighbours[topic]
        assert metric(text, "webhook_records_consumed_total", topic=topic) == total
        assert metric(text, "webhook_records_poison_total", topic=topic) == poison
        assert metric(text, "webhook_records_decoded_total", topic=topic) == total - poison
    assert metric(text, "webhook_dlq_published_total", outcome="ok") == len(POISON)
    assert metric(text, "webhook_dlq_published_total", outcome="failed") == 0
    assert len(poison_lines(corpus_run)) == len(POISON)


def test_every_record_is_committed_and_every_neighbour_delivered(corpus_run: CorpusRun) -> None:
    run = corpus_run.run
    assert corpus_run.committed == {t: run.produced[t] for t in (run.audit, run.session)}
    neighbours = corpus_run.at(NEIGHBOURS, ChannelType.SLACK)
    assert len(neighbours) == sum(corpus_run.neighbours.values())
    tags = {r.json["text"].split("\n")[0] for r in neighbours}
    assert {f"[Audit] neighbour:{n}" for n in range(corpus_run.neighbours[run.audit])} <= tags


def test_the_consumer_stayed_up_and_stopped_cleanly(corpus_run: CorpusRun) -> None:
    run = corpus_run.run
    assert corpus_run.alive_at_end
    assert run.exit_code == 0
    assert [e["drained"] for e in run.events("stopped")] == [True]
    assert run.events("service_crashed") == []
    assert run.events("delivery_error") == []
    assert "Traceback" not in run.output
    # No stall: a generous bound on the whole run (start, ~400 records, stop).
    assert corpus_run.seconds < 90


@pytest.mark.parametrize("case", HOSTILE, ids=case_id)
def test_a_hostile_valid_record_is_delivered_within_every_limit_or_stays_silent(
    corpus_run: CorpusRun, case: Case
) -> None:
    placed = corpus_run.placed_case(case)
    rendered = pipeline(case.schema, placed.value)
    for channel_type in ChannelType:
        received = corpus_run.at(placed.key, channel_type)
        if case.expect == "unrouted":
            assert received == []
            assert rendered.decision.fires
            continue
        if case.expect == "silent":
            assert received == []
            assert not rendered.decision.fires
            continue
        assert rendered.notification is not None
        assert len(received) == 1, channel_type
        body = received[0].json
        assert body == rendered.bodies[channel_type]  # what went out is what the renderer made
        assert problems(channel_type, body, rendered.notification) == []


#: What must never reach a terminal or a log viewer raw: C0 and C1 controls but tab, newline and
#: carriage return (JSON escapes those), separators, zero-width and bidi characters.
_RAW_UNSAFE: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]"
)


def test_no_raw_control_or_bidi_character_reaches_the_log_output(corpus_run: CorpusRun) -> None:
    output = corpus_run.run.output
    assert _RAW_UNSAFE.findall(output) == []
    (fired,) = [
        e
        for e in corpus_run.run.events("notification_fired")
        if str(e["project_id"]).startswith("p\\u001b]0;owned")
    ]
    assert fired["project_id"] == fired["event_id"]
    assert "\\u202eevil" in str(fired["reason"])  # the source, escaped, in the reason


def test_duplicated_keys_never_route_to_the_first_project(corpus_run: CorpusRun) -> None:
    assert corpus_run.at(DECOY, ChannelType.SLACK) == []


def test_the_record_over_one_mebibyte_really_was_over(corpus_run: CorpusRun) -> None:
    (big,) = [p for p in corpus_run.placed if "over 1 MiB" in p.case.id]
    assert big.value is not None
    assert len(big.value) > 1024 * 1024
