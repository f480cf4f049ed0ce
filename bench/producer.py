"""A steady producer in its own process: firing audit rows at a fixed rate, each stamped with
its produce time (`bench.events.stamp`), so the sink can tell the end-to-end latency.

    python -m bench.producer --bootstrap 127.0.0.1:9092 --topic audit --rate 500 --seconds 30

Prints one JSON line at the end: records sent, the first and last produce times (ns).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from typing import Any

from aiokafka import AIOKafkaProducer

from bench import events
from bench.harness import PROJECT
from bench.kafka import PARTITIONS


async def steady(
    bootstrap: str, topic: str, per_s: float, seconds: float, seed: int
) -> dict[str, Any]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0)
    await producer.start()
    rng = random.Random(seed)
    sent = 0
    first_ns = last_ns = 0
    try:
        t0 = time.monotonic()
        while (elapsed := time.monotonic() - t0) < seconds:
            due = int(elapsed * per_s) + 1
            while sent < due:
                row = events.firing_row(rng, sent, PROJECT)
                last_ns = time.time_ns()
                first_ns = first_ns or last_ns
                value = events.encode(events.stamp(row, last_ns))
                await producer.send(
                    topic, value, key=events.key_of(row), partition=sent % PARTITIONS
                )
                sent += 1
            await asyncio.sleep(max(0.0, t0 + sent / per_s - time.monotonic()))
        await producer.flush()
    finally:
        await producer.stop()
    return {"sent": sent, "first_ns": first_ns, "last_ns": last_ns}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.producer", description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--rate", type=float, default=500.0, help="records per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    result = asyncio.run(steady(args.bootstrap, args.topic, args.rate, args.seconds, args.seed))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
