"""Concurrent processing with order where it matters, and a bound.

- Up to `max_in_flight` records are processed at once; at the bound the consume loop waits for room
  instead of fetching more (back-pressure; nothing buffers without limit).
- Records with the same key in the same partition run one after another, in offset order (a
  step-up request must not reach chat after its success). Records without a key run freely.
- Whatever a record's handling does (even raise), it ends and the commit tracker hears of it: a
  record can never hold its partition's committed offset back for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from consumer import metrics
from consumer.commit import OffsetTracker, TopicPartition
from consumer.logs import get_logger

log = get_logger("consumer.dispatch")


@dataclass(frozen=True, slots=True)
class Record:
    """A Kafka record as the pipeline sees it (independent of the Kafka client library)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


J = TypeVar("J")


class Dispatcher(Generic[J]):
    """Runs `handler(record, job)` per submitted record; `done` ends a record that has no job."""

    def __init__(
        self,
        handler: Callable[[Record, J], Awaitable[None]],
        tracker: OffsetTracker,
        max_in_flight: int,
    ) -> None:
        self._handler = handler
        self._tracker = tracker
        self._max = max_in_flight
        self._tasks: dict[TopicPartition, set[asyncio.Task[None]]] = {}
        self._chains: dict[tuple[TopicPartition, bytes], asyncio.Task[None]] = {}
        self._count = 0
        self._room = asyncio.Event()
        self._room.set()

    @property
    def in_flight(self) -> int:
        return self._count

    @property
    def room(self) -> int:
        return max(0, self._max - self._count)

    async def wait_for_room(self) -> None:
        while self._count >= self._max:
            self._room.clear()
            await self._room.wait()

    def done(self, record: Record) -> bool:
        """A record with nothing left to do: finished at once, no task, no slot taken.

        Its key's order is not affected: it sends nothing, so nothing can overtake it.
        False when the record's offset was started already (see `OffsetTracker`).
        """
        return self._tracker.start_finished(record.tp, record.offset)

    def submit(self, record: Record, job: J) -> bool:
        """Start `handler(record, job)` now (after the previous record of its key, if any).

        False, and nothing started, when the record's offset was started already.
        """
        tp = record.tp
        if not self._tracker.start(tp, record.offset):
            return False
        previous = self._chains.get((tp, record.key)) if record.key is not None else None
        task = asyncio.create_task(self._run(record, job, previous))
        self._tasks.setdefault(tp, set()).add(task)
        if record.key is not None:
            self._chains[(tp, record.key)] = task
        self._count += 1
        metrics.in_flight.set(self._count)
        if self._count >= self._max:
            self._room.clear()
        return True

    async def _run(self, record: Record, job: J, previous: asyncio.Task[None] | None) -> None:
        tp = record.tp
        ended = False  # a cancelled record (shutdown) is not finished: it must not be committed
        try:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])
            await self._handler(record, job)
            ended = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug in one record must not stall the partition
            ended = True
            log.error(
                "record_failed",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error=type(exc).__name__,
            )
        finally:
            if ended:
                self._tracker.finish(tp, record.offset)
            task = asyncio.current_task()
            tasks = self._tasks.get(tp)
            if tasks is not None and task is not None:
                tasks.discard(task)
                if not tasks:
                    del self._tasks[tp]
            if record.key is not None and self._chains.get((tp, record.key)) is task:
                del self._chains[(tp, record.key)]
            self._count -= 1
            metrics.in_flight.set(self._count)
            self._room.set()

    async def drain(
        self, tps: Iterable[TopicPartition] | None = None, within_s: float = 6.0
    ) -> bool:
        """Wait until the records of these partitions (default: all) have finished.

        True if they all finished within `within_s` seconds; the stragglers keep running.
        """
        selected = list(self._tasks) if tps is None else [tp for tp in tps if tp in self._tasks]
        pending = {t for tp in selected for t in self._tasks.get(tp, set())}
        if not pending:
            return True
        t0 = time.monotonic()
        _, still = await asyncio.wait(pending, timeout=within_s)
        if still:
            log.warning(
                "drain_incomplete",
                waited_ms=round((time.monotonic() - t0) * 1000),
                unfinished=len(still),
            )
        return not still

    async def cancel_all(self) -> None:
        tasks = [t for ts in self._tasks.values() for t in ts]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
