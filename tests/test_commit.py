"""The commit tracker: a partition's offset moves only past records that all finished."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.commit import OffsetTracker, TopicPartition

TP = TopicPartition("audit-log", 0)
OTHER = TopicPartition("audit-log", 1)


@pytest.mark.parametrize(
    ("started", "finished", "expected"),
    [
        ([10, 11, 12, 13], [], None),
        ([10, 11, 12, 13], [11, 13], None),
        ([10, 11, 12, 13], [10], 11),
        ([10, 11, 12, 13], [11, 13, 10], 12),
        ([10, 11, 12, 13], [13, 12, 11, 10], 14),
        ([5, 9, 40], [5, 9], 10),
    ],
    ids=[
        "nothing finished: nothing to commit",
        "later records finished first: the slow first record holds the offset",
        "the first record finished: commit just past it",
        "the first finished after later ones: commit up to the next unfinished",
        "all finished in reverse: commit past the last",
        "offsets with gaps (compaction, transactions): commit past the last finished",
    ],
)
def test_committable_offset(started: list[int], finished: list[int], expected: int | None) -> None:
    tracker = OffsetTracker()
    for offset in started:
        tracker.start(TP, offset)
    for offset in finished:
        tracker.finish(TP, offset)
    assert tracker.to_commit().get(TP) == expected


def test_partitions_are_independent_and_committed_offsets_are_not_repeated() -> None:
    tracker = OffsetTracker()
    tracker.start(TP, 0)
    tracker.start(OTHER, 0)
    tracker.finish(OTHER, 0)
    assert tracker.to_commit() == {OTHER: 1}
    tracker.committed({OTHER: 1})
    assert tracker.to_commit() == {}
    tracker.finish(TP, 0)
    assert tracker.to_commit([TP, OTHER]) == {TP: 1}


def test_a_revoked_partition_forgets_its_records() -> None:
    tracker = OffsetTracker()
    tracker.start(TP, 3)
    tracker.revoke([TP])
    tracker.finish(TP, 3)  # a straggler ending after the hand-over: ignored
    assert tracker.to_commit() == {}
    assert tracker.lag() == {}


def test_an_offset_already_started_is_refused() -> None:
    tracker = OffsetTracker()
    assert tracker.start(TP, 7)
    assert not tracker.start(TP, 7)
    assert not tracker.start(TP, 5)
    assert tracker.lag() == {TP: 1}


@settings(max_examples=200, deadline=None)
@given(st.permutations(list(range(30))), st.integers(min_value=0, max_value=30))
def test_the_offset_never_passes_an_unfinished_record(order: list[int], how_many: int) -> None:
    tracker = OffsetTracker()
    for offset in range(30):
        tracker.start(TP, offset)
    done = set(order[:how_many])
    for offset in order[:how_many]:
        tracker.finish(TP, offset)
    committable = tracker.to_commit().get(TP, 0)
    assert all(o in done for o in range(committable))
    assert committable == 30 or committable not in done


def test_a_record_with_nothing_to_do_is_finished_at_once_but_never_overtakes() -> None:
    tracker = OffsetTracker()
    tracker.start_finished(TP, 0)
    assert tracker.to_commit() == {TP: 1}
    tracker.start(TP, 1)  # a notification still being delivered
    tracker.start_finished(TP, 2)
    tracker.start_finished(TP, 3)
    assert tracker.to_commit() == {TP: 1}  # 2 and 3 are done, but 1 holds the offset
    tracker.finish(TP, 1)
    assert tracker.to_commit() == {TP: 4}
    assert not tracker.start_finished(TP, 3)  # seen before: refused, nothing changes
    assert tracker.to_commit() == {TP: 4}
