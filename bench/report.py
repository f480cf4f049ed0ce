"""The benchmark's output: the machine, the goals, the table, the JSON and the chart."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import orjson

from bench.stats import ratio

#: How long the committed offset may stand still in the isolation run: the 5 s delivery budget
#: of the record holding it (a hanging channel uses it all), plus the 1 s commit interval.
MAX_COMMIT_GAP_S: Final = 6.5


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with Path("/proc/cpuinfo").open() as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with Path("/proc/meminfo").open() as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "kafka": os.environ.get("LOCAL_KAFKA_VERSION", "4.4.0"),
        "aiokafka": metadata.version("aiokafka"),
        "aiohttp": metadata.version("aiohttp"),
        "pydantic": metadata.version("pydantic"),
        "uvloop": metadata.version("uvloop"),
    }


@dataclass(frozen=True)
class Goal:
    name: str
    figure: str
    target: str
    met: bool | None  # None: not measured in this run


def _get(data: Mapping[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def goals(scenarios: Mapping[str, Any]) -> list[Goal]:
    out: list[Goal] = []
    f_ratio = ratio(
        _get(scenarios, "filter", "asyncio", "service", "rate"),
        _get(scenarios, "filter", "asyncio", "raw", "rate"),
    )
    out.append(Goal("1. filter path vs raw getmany", _x(f_ratio), ">= 0.80x", _ge(f_ratio, 0.8)))
    n_ratio = ratio(
        _get(scenarios, "notify", "asyncio", "service", "rate"),
        _get(scenarios, "notify", "asyncio", "raw", "rate"),
    )
    out.append(Goal("2. notify path vs raw aiohttp", _x(n_ratio), ">= 0.70x", _ge(n_ratio, 0.7)))
    p99 = _get(scenarios, "latency", "asyncio", "p99_ms")
    out.append(
        Goal(
            "3. p99 latency at 500 events/s",
            "n/a" if p99 is None else f"{p99:.1f} ms",
            "< 50 ms",
            None if p99 is None else p99 < 50,
        )
    )
    i_ratio = ratio(
        _get(scenarios, "isolation", "throughput"),
        _get(scenarios, "latency", "asyncio", "throughput"),
    )
    out.append(
        Goal("4a. isolation: healthy throughput", _x(i_ratio), ">= 0.90x", _ge(i_ratio, 0.9))
    )
    gap = _get(scenarios, "isolation", "max_commit_gap_s")
    committed = _get(scenarios, "isolation", "committed_all")
    out.append(
        Goal(
            "4b. isolation: committed offsets never stall",
            "n/a" if gap is None else f"longest stand-still {gap:.1f} s, end reached: {committed}",
            f"<= {MAX_COMMIT_GAP_S} s (budget + commit interval), reaches the end",
            None if gap is None else bool(committed) and gap <= MAX_COMMIT_GAP_S,
        )
    )
    growth = _get(scenarios, "soak", "growth_from_ready")
    soak_s = _get(scenarios, "soak", "seconds")
    out.append(
        Goal(
            "5. RSS growth over the soak",
            "n/a" if growth is None else f"{growth * 100:+.1f}% over {soak_s:.0f} s",
            "< 10% over 600 s",
            None if growth is None else growth < 0.10 and soak_s >= 600,
        )
    )
    return out


def _ge(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound


def _rate(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:,.0f} {unit}"


def rows(scenarios: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(scenario, measure, subject, baseline, ratio) rows of the printed table."""
    out: list[tuple[str, str, str, str, str]] = []
    for loop in ("asyncio", "uvloop"):
        f = _get(scenarios, "filter", loop)
        if f:
            svc = _get(f, "service", "rate")
            for key, label in (("raw", "raw getmany"), ("reference", "getmany+decode+decide")):
                base = _get(f, key, "rate")
                out.append(
                    (f"1 filter [{loop}]", f"records/s vs {label}", _rate(svc, "rec/s"),
                     _rate(base, "rec/s"), _x(ratio(svc, base)))
                )  # fmt: skip
            steady = _get(f, "service", "rate_steady")
            base = _get(f, "raw", "rate")
            out.append(
                (f"1 filter [{loop}]", "steady records/s (10-90% committed) vs raw getmany",
                 _rate(steady, "rec/s"), _rate(base, "rec/s"), _x(ratio(steady, base)))
            )  # fmt: skip
    for loop in ("asyncio", "uvloop"):
        n = _get(scenarios, "notify", loop)
        if n:
            svc = _get(n, "service", "rate")
            for key, label in (("raw", "raw aiohttp"), ("naive", "naive sequential")):
                base = _get(n, key, "rate")
                if base is not None:
                    out.append(
                        (f"2 notify [{loop}]", f"deliveries/s vs {label}", _rate(svc, "del/s"),
                         _rate(base, "del/s"), _x(ratio(svc, base)))
                    )  # fmt: skip
            steady = _get(n, "service", "rate_steady")
            base = _get(n, "raw", "rate")
            out.append(
                (f"2 notify [{loop}]", "steady deliveries/s (10-90% committed) vs raw aiohttp",
                 _rate(steady, "del/s"), _rate(base, "del/s"), _x(ratio(steady, base)))
            )  # fmt: skip
    for loop in ("asyncio", "uvloop"):
        lat = _get(scenarios, "latency", loop)
        if lat:
            out.append(
                (f"3 latency [{loop}]", "p50 / p99 / max ms at 500 ev/s",
                 f"{lat['p50_ms']} / {lat['p99_ms']} / {lat['max_ms']}", "", "")
            )  # fmt: skip
    floor = _get(scenarios, "latency", "raw")
    if floor:
        out.append(
            ("3 latency [floor]", "bare consume+post, same load",
             f"{floor['p50_ms']} / {floor['p99_ms']} / {floor['max_ms']}", "", "")
        )  # fmt: skip
    iso, lat = _get(scenarios, "isolation"), _get(scenarios, "latency", "asyncio")
    if iso:
        out.append(
            ("4 isolation", "healthy deliveries/s vs (3)", _rate(iso["throughput"], "del/s"),
             _rate(_get(lat, "throughput"), "del/s"),
             _x(ratio(iso["throughput"], _get(lat, "throughput"))))
        )  # fmt: skip
        out.append(
            ("4 isolation", "p99 ms vs (3) (after the first 10 s)",
             f"{iso['p99_ms']} ({iso['p99_settled_ms']})",
             f"{_get(lat, 'p99_ms')} ({_get(lat, 'p99_settled_ms')})", "")
        )  # fmt: skip
        out.append(
            ("4 isolation", "service CPU us per record vs (3)", f"{iso.get('cpu_us_per_record')}",
             f"{_get(lat, 'cpu_us_per_record')}",
             _x(ratio(iso.get("cpu_us_per_record"), _get(lat, "cpu_us_per_record"))))
        )  # fmt: skip
        out.append(
            ("4 isolation", "longest commit stand-still", f"{iso['max_commit_gap_s']} s",
             f"{_get(lat, 'max_commit_gap_s')} s", "")
        )  # fmt: skip
    soak = _get(scenarios, "soak")
    if soak:
        out.append(
            ("5 memory", f"RSS MiB ready -> warm -> end ({soak['seconds']:.0f} s)",
             f"{soak['rss_ready_mib']} -> {soak['rss_warm_mib']} -> {soak['rss_end_mib']}",
             "", f"{soak['growth_from_ready'] * 100:+.1f}%")
        )  # fmt: skip
    return out


def table(scenarios: Mapping[str, Any]) -> str:
    header = ("scenario", "measure", "service", "baseline", "ratio")
    body = rows(scenarios)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(5)]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *body]
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    lines.append("")
    for goal in goals(scenarios):
        verdict = {True: "MET", False: "NOT MET", None: "not measured"}[goal.met]
        lines.append(f"{goal.name}: {goal.figure} (goal {goal.target}) -> {verdict}")
    return "\n".join(lines)


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data: dict[str, Any] = orjson.loads(path.read_bytes())
    return data


def goals_json(scenarios: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [asdict(g) for g in goals(scenarios)]


def chart(path: Path, scenarios: Mapping[str, Any], title: str) -> None:
    """Bars of throughput per scenario: records/s (filter) and deliveries/s (the others)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    left = [
        ("raw getmany", _get(scenarios, "filter", "asyncio", "raw", "rate")),
        ("getmany+decode\n+decide", _get(scenarios, "filter", "asyncio", "reference", "rate")),
        ("service", _get(scenarios, "filter", "asyncio", "service", "rate")),
        ("service\n(uvloop)", _get(scenarios, "filter", "uvloop", "service", "rate")),
    ]
    right = [
        ("raw aiohttp", _get(scenarios, "notify", "asyncio", "raw", "rate")),
        ("service", _get(scenarios, "notify", "asyncio", "service", "rate")),
        ("service\n(uvloop)", _get(scenarios, "notify", "uvloop", "service", "rate")),
        ("naive\nsequential", _get(scenarios, "notify", "asyncio", "naive", "rate")),
        ("500 ev/s\nsteady", _get(scenarios, "latency", "asyncio", "throughput")),
        ("500 ev/s +\nhanging channel", _get(scenarios, "isolation", "throughput")),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [4, 6]})
    panels = (
        (axes[0], left, "1. filter path: records/s", "#4C72B0"),
        (axes[1], right, "2-4. notify path: deliveries/s", "#DD8452"),
    )
    for ax, bars, heading, colour in panels:
        shown = [(label, value) for label, value in bars if value is not None]
        labels = [label for label, _ in shown]
        values = [float(value) for _, value in shown]
        colours = ["#999999" if "raw" in label else colour for label in labels]
        drawn = ax.bar(labels, values, color=colours)
        ax.bar_label(drawn, labels=[f"{v:,.0f}" for v in values], fontsize=8)
        ax.set_title(heading, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_ylim(0, max(values, default=1) * 1.15)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
