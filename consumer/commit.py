"""Which offset each partition may commit: pure bookkeeping, no Kafka.

Records of one partition are processed concurrently, so they finish out of order. The committed
offset may only move past a record once that record and every earlier record of its partition
have finished their attempts (like Confluent's Parallel Consumer). For a partition:

    started 10 11 12 13, finished 11 13   ->  committable 10  (10 still running)
    then 10 finishes                      ->  committable 12  (12 still running)

Kafka's committed offset is "the next record to read", hence `last finished in a row + 1`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple


class TopicPartition(NamedTuple):
    topic: str
    partition: int


@dataclass
class _Partition:
    pending: deque[int] = field(default_factory=deque)  # started offsets, ascending
    finished: set[int] = field(default_factory=set)  # finished but not yet at the front
    committable: int | None = None  # next offset to commit, None before the first record
    committed: int | None = None  # last offset handed to Kafka
    last: int = -1  # the last offset started

    def begin(self, offset: int) -> bool:
        if offset <= self.last:
            return False
        self.last = offset
        return True


class OffsetTracker:
    """Per-partition watermark of finished records.

    Offsets are started in ascending order; an offset at or below one already started (a fetch
    position moved back) is refused (`start` returns False): that record was attempted already.
    """

    def __init__(self) -> None:
        self._parts: dict[TopicPartition, _Partition] = {}

    def assign(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            self._parts.setdefault(tp, _Partition())

    def revoke(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            self._parts.pop(tp, None)

    def start(self, tp: TopicPartition, offset: int) -> bool:
        part = self._parts.setdefault(tp, _Partition())
        if not part.begin(offset):
            return False
        part.pending.append(offset)
        return True

    def start_finished(self, tp: TopicPartition, offset: int) -> bool:
        """`start` and `finish` at once, for a record with nothing left to do (most of them)."""
        part = self._parts.setdefault(tp, _Partition())
        if not part.begin(offset):
            return False
        if part.pending:
            part.pending.append(offset)
            part.finished.add(offset)
        else:
            part.committable = offset + 1
        return True

    def finish(self, tp: TopicPartition, offset: int) -> None:
        """Mark a record done. Unknown partitions (revoked meanwhile) are ignored."""
        part = self._parts.get(tp)
        if part is None:
            return
        part.finished.add(offset)
        while part.pending and part.pending[0] in part.finished:
            done = part.pending.popleft()
            part.finished.discard(done)
            part.committable = done + 1

    def to_commit(self, tps: Iterable[TopicPartition] | None = None) -> dict[TopicPartition, int]:
        """Offsets that moved since the last `committed` call, for the given (or all) partitions."""
        selected = self._parts.keys() if tps is None else [tp for tp in tps if tp in self._parts]
        out: dict[TopicPartition, int] = {}
        for tp in selected:
            part = self._parts[tp]
            if part.committable is not None and part.committable != part.committed:
                out[tp] = part.committable
        return out

    def committed(self, offsets: dict[TopicPartition, int]) -> None:
        """Record that Kafka accepted these offsets."""
        for tp, offset in offsets.items():
            part = self._parts.get(tp)
            if part is not None:
                part.committed = offset

    def lag(self) -> dict[TopicPartition, int]:
        """Records started but not yet committable, per partition."""
        return {tp: len(p.pending) for tp, p in self._parts.items()}
