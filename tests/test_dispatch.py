"""The dispatcher: concurrency with a bound, order per key, and no record left hanging."""

from __future__ import annotations

import asyncio

from consumer.commit import OffsetTracker, TopicPartition
from consumer.dispatch import Dispatcher, Record

TP = TopicPartition("t", 0)


def rec(offset: int, key: bytes | None = None, partition: int = 0) -> Record:
    return Record("t", partition, offset, key, b"{}", 0)


async def test_records_of_one_key_run_in_order_while_other_keys_overtake() -> None:
    order: list[int] = []
    gate = asyncio.Event()

    async def handler(r: Record, _job: None) -> None:
        if r.offset == 0:
            await gate.wait()  # the first record of key "a" is slow
        order.append(r.offset)

    tracker = OffsetTracker()
    d = Dispatcher[None](handler, tracker, max_in_flight=10)
    d.submit(rec(0, b"a"), None)
    d.submit(rec(1, b"b"), None)
    d.submit(rec(2, b"a"), None)
    d.submit(rec(3, None), None)
    await asyncio.sleep(0.05)
    assert order == [1, 3]  # key "b" and the unkeyed record did not wait
    assert tracker.to_commit() == {}  # offset 0 still running: nothing committable
    gate.set()
    assert await d.drain(within_s=2)
    assert order == [1, 3, 0, 2]  # key "a" kept its order
    assert tracker.to_commit() == {TP: 4}


async def test_the_bound_holds_and_room_comes_back() -> None:
    release = asyncio.Event()
    running = 0
    peak = 0

    async def handler(_r: Record, _job: None) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    d = Dispatcher[None](handler, OffsetTracker(), max_in_flight=3)
    for i in range(3):
        d.submit(rec(i), None)
    assert d.room == 0
    waiter = asyncio.create_task(d.wait_for_room())
    await asyncio.sleep(0.05)
    assert not waiter.done()
    release.set()
    await asyncio.wait_for(waiter, 2)
    assert await d.drain(within_s=2)
    assert peak == 3
    assert d.in_flight == 0


async def test_a_handler_that_raises_still_ends_its_record() -> None:
    async def handler(r: Record, _job: None) -> None:
        if r.offset == 1:
            raise RuntimeError("bug")

    tracker = OffsetTracker()
    d = Dispatcher[None](handler, tracker, max_in_flight=5)
    for i in range(3):
        d.submit(rec(i), None)
    assert await d.drain(within_s=2)
    assert tracker.to_commit() == {TP: 3}


async def test_a_cancelled_record_is_not_committed() -> None:
    async def handler(r: Record, _job: None) -> None:
        if r.offset == 1:
            await asyncio.sleep(60)

    tracker = OffsetTracker()
    d = Dispatcher[None](handler, tracker, max_in_flight=5)
    for i in range(3):
        d.submit(rec(i), None)
    assert not await d.drain(within_s=0.2)
    await d.cancel_all()
    assert tracker.to_commit() == {TP: 1}  # past 0 only: 1 was cut short, 2 waits behind it


async def test_drain_waits_only_for_the_named_partitions() -> None:
    gate = asyncio.Event()

    async def handler(r: Record, _job: None) -> None:
        if r.partition == 1:
            await gate.wait()

    d = Dispatcher[None](handler, OffsetTracker(), max_in_flight=5)
    d.submit(rec(0, partition=0), None)
    d.submit(rec(0, partition=1), None)
    assert await d.drain([TP], within_s=1)
    assert not await d.drain([TopicPartition("t", 1)], within_s=0.1)
    gate.set()
    assert await d.drain(within_s=1)


async def test_a_record_without_a_job_takes_no_slot_and_waits_for_no_one() -> None:
    gate = asyncio.Event()

    async def handler(_r: Record, _job: None) -> None:
        await gate.wait()

    tracker = OffsetTracker()
    d = Dispatcher[None](handler, tracker, max_in_flight=1)
    d.submit(rec(0, b"k"), None)
    d.done(rec(1, b"k"))
    assert d.in_flight == 1
    assert tracker.to_commit() == {}
    gate.set()
    assert await d.drain(within_s=2)
    assert tracker.to_commit() == {TP: 2}
