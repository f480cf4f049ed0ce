"""`python -m bench.run`: the benchmarks of docs/BENCHMARKS.md, with a local broker and sink.

    python -m bench.run                  # everything but the soak (make bench), < 10 minutes
    python -m bench.run --quick          # smaller sizes, for iterating
    python -m bench.run --scenario notify --scenario latency
    python -m bench.run --soak           # the 10-minute memory soak (make bench-soak)
    python -m bench.run --profile        # pyinstrument profiles of the service paths

Prints a table of ratios and the goals met or not; a complete run (and the soak) writes
bench/results/<date>.json and docs/bench-throughput.png; a quick or partial one
(`--quick`, `--scenario`, `--no-uvloop`) writes <date>-quick.json or <date>-partial.json only.
The broker is started here (`dev.localkafka`) unless KAFKA_BOOTSTRAP_SERVERS names one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from bench import report
from bench.scenarios import filter as filter_path
from bench.scenarios import notify, soak, steady
from bench.sink import ROOT, SinkProcess
from consumer.logs import configure_logging

SCENARIOS: Final = ("filter", "notify", "latency", "isolation")
LOOPS: Final = ("asyncio", "uvloop")
RESULTS: Final = ROOT / "bench" / "results"
CHART: Final = ROOT / "docs" / "bench-throughput.png"
#: The steady rate of the latency, isolation and soak scenarios, events per second.
STEADY_RATE: Final = 500.0


@dataclass(frozen=True)
class Sizes:
    filter_records: int
    notify_records: int
    naive_records: int
    naive_seconds: float
    steady_s: float
    isolation_s: float
    soak_s: float
    repeats: int


FULL: Final = Sizes(200_000, 20_000, 20_000, 15.0, 30.0, 45.0, 600.0, 2)
QUICK: Final = Sizes(20_000, 4_000, 1_000, 5.0, 10.0, 15.0, 60.0, 1)
#: For the smoke test: seconds, not minutes.
TINY: Final = Sizes(500, 200, 50, 2.0, 2.0, 2.0, 5.0, 1)


def _loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


def on_loop(loop: str, work: Callable[[], Awaitable[Any]], profile: Path | None = None) -> Any:
    """Run `work()` on a fresh event loop of the given kind (optionally under pyinstrument)."""
    with asyncio.Runner(loop_factory=_loop_factory(loop)) as runner:
        if profile is None:
            return runner.run(work())  # type: ignore[arg-type]
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
        try:
            return runner.run(work())  # type: ignore[arg-type]
        finally:
            profiler.stop()
            profile.parent.mkdir(parents=True, exist_ok=True)
            profile.write_text(profiler.output_text(unicode=False, color=False))
            say(f"  profile written to {profile.relative_to(ROOT)}")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def best(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of the repeats (the least disturbed by a shared machine), with all rates."""
    top = max(samples, key=lambda s: float(s["rate"]))
    return {**top, "samples": [s["rate"] for s in samples]}


def _repeat(
    label: str, loop: str, sizes: Sizes, work: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    samples = []
    for _ in range(sizes.repeats):
        result = on_loop(loop, work)
        say(f"  {label} [{loop}]: {result['rate']:,.0f}/s")
        samples.append(result)
    return best(samples)


def run_filter(bootstrap: str, sizes: Sizes, loops: Sequence[str], profile: bool) -> dict[str, Any]:
    say(f"1. filter path: producing {sizes.filter_records:,} silent audit rows")
    data = on_loop("asyncio", lambda: filter_path.prepare(bootstrap, sizes.filter_records))
    out: dict[str, Any] = {"records": data.records, "mean_record_bytes": data.bytes // data.records}
    if profile:
        path = RESULTS / "profile-filter.txt"
        on_loop("asyncio", lambda: filter_path.service_path(bootstrap, data), profile=path)
        return out
    for loop in loops:
        raw = _repeat("raw getmany", loop, sizes, lambda: filter_path.raw_getmany(bootstrap, data))
        reference = _repeat(
            "getmany+decode+decide",
            loop,
            sizes,
            lambda: filter_path.raw_getmany(bootstrap, data, decoding=True),
        )
        service = _repeat("service", loop, sizes, lambda: filter_path.service_path(bootstrap, data))
        out[loop] = {"raw": raw, "reference": reference, "service": service}
    return out


def run_notify(
    bootstrap: str, sink: SinkProcess, sizes: Sizes, loops: Sequence[str], profile: bool
) -> dict[str, Any]:
    say(f"2. notify path: producing {sizes.notify_records:,} firing audit rows (2 channels each)")
    data = on_loop("asyncio", lambda: notify.prepare(bootstrap, sizes.notify_records))
    out: dict[str, Any] = {"records": data.records}
    if profile:
        path = RESULTS / "profile-notify.txt"
        on_loop("asyncio", lambda: notify.service_path(sink, bootstrap, data), profile=path)
        return out
    for loop in loops:
        out[loop] = {
            "raw": _repeat("raw aiohttp", loop, sizes, lambda: notify.raw_aiohttp(sink, data)),
            "service": _repeat(
                "service", loop, sizes, lambda: notify.service_path(sink, bootstrap, data)
            ),
        }
    naive = on_loop(
        "asyncio",
        lambda: notify.naive(sink, bootstrap, data, sizes.naive_records, sizes.naive_seconds),
    )
    say(f"  naive sequential [asyncio]: {naive['rate']:,.0f}/s")
    out["asyncio"]["naive"] = naive
    return out


def run_steady(
    bootstrap: str, sink: SinkProcess, seconds: float, loop: str, hang: bool, repeats: int = 1
) -> dict[str, Any]:
    """The steady run, `repeats` times; the least disturbed one (the highest throughput, then
    the lowest p99) is reported, with every run's figures under `samples`."""
    samples: list[dict[str, Any]] = []
    for _ in range(repeats):
        result: dict[str, Any] = on_loop(
            loop, lambda: steady.run(sink, bootstrap, STEADY_RATE, seconds, hang=hang)
        )
        say(
            f"  {'isolation' if hang else 'latency'} [{loop}]: {result['throughput']:,.0f} "
            f"del/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
            f"{result['cpu_us_per_record']} us CPU/record"
        )
        samples.append(result)
    top = max(samples, key=lambda r: (round(r["throughput"], -1), -(r["p99_ms"] or 0.0)))
    keys = ("throughput", "p50_ms", "p99_ms", "cpu_us_per_record")
    return {**top, "samples": [{k: r[k] for k in keys} for r in samples]}


def code_version() -> dict[str, Any]:
    """The commit measured, and whether `consumer/` had uncommitted changes (a shared tree)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "consumer_changed": bool(git("status", "--porcelain", "--", "consumer")),
    }


@contextlib.contextmanager
def broker() -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    from dev.localkafka import LocalKafka

    with LocalKafka() as kafka:
        say(f"local Kafka broker at {kafka.bootstrap} ({kafka.startup_seconds:.1f} s to start)")
        yield kafka.bootstrap


def measure(
    bootstrap: str,
    sink: SinkProcess,
    sizes: Sizes,
    selected: Sequence[str],
    loops: Sequence[str],
    profile: bool = False,
) -> dict[str, Any]:
    """Run the selected scenarios; the results by scenario name."""
    out: dict[str, Any] = {}
    if "filter" in selected:
        out["filter"] = run_filter(bootstrap, sizes, loops, profile)
    if "notify" in selected:
        out["notify"] = run_notify(bootstrap, sink, sizes, loops, profile)
    if profile:
        return out
    if "latency" in selected:
        say(f"3. latency: {STEADY_RATE:.0f} events/s for {sizes.steady_s:.0f} s")
        out["latency"] = {
            loop: run_steady(
                bootstrap,
                sink,
                sizes.steady_s,
                loop,
                False,
                sizes.repeats if loop == "asyncio" else 1,
            )
            for loop in loops
        }
        floor = on_loop(
            "asyncio", lambda: steady.raw_run(sink, bootstrap, STEADY_RATE, sizes.steady_s)
        )
        say(
            f"  bare consume+post floor [asyncio]: p50 {floor['p50_ms']} ms, "
            f"p99 {floor['p99_ms']} ms"
        )
        out["latency"]["raw"] = floor
    if "isolation" in selected:
        say(f"4. isolation: as 3 plus a channel that hangs, for {sizes.isolation_s:.0f} s")
        out["isolation"] = run_steady(
            bootstrap, sink, sizes.isolation_s, "asyncio", True, sizes.repeats
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="repeatable")
    parser.add_argument("--soak", action="store_true", help="only the memory soak (10 min)")
    parser.add_argument("--soak-seconds", type=float, help="length of the soak")
    parser.add_argument("--no-uvloop", action="store_true", help="skip the uvloop runs")
    parser.add_argument("--profile", action="store_true", help="profile the service paths")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    loops = ("asyncio",) if args.no_uvloop else LOOPS
    started = time.monotonic()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    code = code_version()
    # The service logs at info, as in production; the lines are rendered, then thrown away.
    with Path(os.devnull).open("w") as devnull:
        configure_logging("info", "json", stream=devnull)
        with broker() as bootstrap, SinkProcess() as sink:
            if args.soak:
                seconds = args.soak_seconds or sizes.soak_s
                say(f"5. memory soak: {STEADY_RATE:.0f} events/s for {seconds:.0f} s")
                soaked = on_loop("asyncio", lambda: soak.run(sink, bootstrap, STEADY_RATE, seconds))
                scenarios = {"soak": soaked}
            else:
                selected = args.scenario or SCENARIOS
                scenarios = measure(bootstrap, sink, sizes, selected, loops, args.profile)
    if args.profile:
        return 0
    elapsed = time.monotonic() - started
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    # Only a complete run (every scenario, both loops) or the soak writes the day's results;
    # a quick or partial run, e.g. while working on one path, writes beside them.
    complete = not args.quick and not args.scenario and not args.no_uvloop
    if args.quick:
        path = RESULTS / f"{today}-quick.json"
    elif complete or args.soak:
        path = RESULTS / f"{today}.json"
    else:
        path = RESULTS / f"{today}-partial.json"
    document = report.read_json(path)
    document.setdefault("scenarios", {}).update(scenarios)
    document.update(
        {
            "date": today,
            # A soak adds to the day's bench results; a bench run describes the machine anew.
            "machine": (args.soak and document.get("machine")) or report.machine(),
            "sizes": {**document.get("sizes", {}), **asdict(sizes)},
            "goals": report.goals_json(document["scenarios"]),
        }
    )
    document.setdefault("wall_seconds", {})["soak" if args.soak else "bench"] = round(elapsed, 1)
    document.setdefault("code", {})["soak" if args.soak else "bench"] = code
    # The machine is shared: how busy it was (1-minute load average; 2 cores) says how far to
    # trust the run.
    document.setdefault("load_average", {})["soak" if args.soak else "bench"] = {
        "start": load_at_start,
        "end": [round(x, 2) for x in os.getloadavg()],
    }
    report.write_json(path, document)
    print(report.table(document["scenarios"]))
    print(f"\nwritten: {path.relative_to(ROOT)} ({elapsed:.0f} s)")
    if complete and not args.soak:
        m = document["machine"]
        report.chart(
            CHART,
            document["scenarios"],
            f"transcodes-webhooks, {today}: {m['cpus']} x {m['cpu_model']}, Python {m['python']}, "
            f"Kafka {m['kafka']} (local broker); one run, shared machine",
        )
        print(f"chart: {CHART.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
