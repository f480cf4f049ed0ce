"""`webhook-consumer channels validate FILE`: check a channels file the way the service reads it.

Exit 0 with a summary per project and channel type on stdout. Exit 2 with every problem on
stderr, one per line, each naming the channel (index and id) and the field, URLs redacted.

The URL policy is the environment's (`WEBHOOK_EXTRA_HOSTS`, `WEBHOOK_ALLOW_INSECURE_TARGETS`), so
a file that passes here is a file the service accepts with the same environment.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from consumer.channel import ChannelConfig, ChannelType
from consumer.config import load_settings
from consumer.directory import load_channels_file, url_policy
from consumer.errors import ChannelsError


def summary(channels: Sequence[ChannelConfig]) -> list[str]:
    """One line per project: `proj_1: slack 1 active, telegram 1 active (1 inactive)`."""
    counts: Counter[tuple[str, ChannelType, bool]] = Counter(
        (c.project_id, c.type, c.active) for c in channels
    )
    lines = []
    for project in sorted({c.project_id for c in channels}):
        parts = []
        for kind in ChannelType:
            active, inactive = counts[(project, kind, True)], counts[(project, kind, False)]
            if active and inactive:
                parts.append(f"{kind.value} {active} active ({inactive} inactive)")
            elif active or inactive:
                parts.append(
                    f"{kind.value} {active or inactive} {'active' if active else 'inactive'}"
                )
        lines.append(f"{project}: {', '.join(parts)}")
    return lines


def main(args: argparse.Namespace) -> int:
    settings = load_settings()
    policy = url_policy(settings)
    path = Path(args.file)
    if policy.allow_insecure:
        print(
            "note: WEBHOOK_ALLOW_INSECURE_TARGETS=true: http and any host are accepted",
            file=sys.stderr,
        )
    try:
        channels = load_channels_file(path, policy)
    except ChannelsError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        count = len(exc.problems)
        print(f"{path}: invalid: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return 2
    active = sum(c.active for c in channels)
    projects = len({c.project_id for c in channels})
    print(
        f"{path}: valid: {len(channels)} channel{'s' if len(channels) != 1 else ''} "
        f"({active} active) in {projects} project{'s' if projects != 1 else ''}"
    )
    for line in summary(channels):
        print(f"  {line}")
    return 0
