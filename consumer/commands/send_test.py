"""`webhook-consumer send-test [--channel ID] [--project ID]`: the Console's "Send test message".

Posts the test message (`[Audit] webhook:test`, severity high) to the selected active channels
of `WEBHOOK_CHANNELS_FILE` through the real delivery engine: the same renderers, URL policy,
5 s budget, retry rule and pacing as the service; each project's channels at once. stdout gets
one line per channel (never its URL):

    sec-slack        slack     delivered    200    143 ms
    oncall-telegram  telegram  timeout        -   5001 ms  budget exhausted

Exit 0 when every channel got it, 1 when any did not, 2 for a usage or configuration error (no
channels file, an invalid one, an unknown `--channel`, nothing to send to). Logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from consumer.channel import ChannelConfig
from consumer.channels.base import Outcome
from consumer.config import Settings, load_settings
from consumer.delivery import Delivery, DeliveryConfig, DeliveryResult
from consumer.directory import load_channels_file, url_policy
from consumer.errors import ChannelsError
from consumer.logs import configure_logging
from consumer.message import test_notification

#: How many known ids an "unknown channel" error lists.
KNOWN_IDS_SHOWN = 10


class SelectionError(Exception):
    """The options select nothing to send to; the message says why."""


def select(
    channels: Sequence[ChannelConfig], channel_id: str | None, project_id: str | None
) -> list[ChannelConfig]:
    """The active channels the options name, in file order; `SelectionError` when none."""
    if channel_id is not None:
        found = next((c for c in channels if c.id == channel_id), None)
        if found is None:
            known = ", ".join(c.id for c in channels[:KNOWN_IDS_SHOWN])
            more = ", …" if len(channels) > KNOWN_IDS_SHOWN else ""
            raise SelectionError(f"unknown channel {channel_id!r} (known: {known}{more})")
        if project_id is not None and found.project_id != project_id:
            raise SelectionError(
                f"channel {channel_id!r} belongs to project {found.project_id!r}, "
                f"not {project_id!r}"
            )
        if not found.active:
            raise SelectionError(
                f"channel {channel_id!r} is not active: only active channels receive messages"
            )
        return [found]
    chosen = [c for c in channels if project_id in (None, c.project_id)]
    active = [c for c in chosen if c.active]
    if not active:
        where = f"project {project_id!r}" if project_id is not None else "the channels file"
        raise SelectionError(f"no active channel in {where} ({len(chosen)} inactive)")
    return active


async def send(settings: Settings, channels: Sequence[ChannelConfig]) -> list[DeliveryResult]:
    """Deliver the test message; one result per channel, in the order given."""
    projects: dict[str, list[ChannelConfig]] = {}
    for channel in channels:
        projects.setdefault(channel.project_id, []).append(channel)
    async with Delivery(DeliveryConfig.from_settings(settings)) as delivery:
        batches = await asyncio.gather(
            *(
                delivery.deliver(
                    test_notification(project), group, command="send-test", project_id=project
                )
                for project, group in projects.items()
            )
        )
    by_id = {r.channel_id: r for batch in batches for r in batch}
    return [by_id[c.id] for c in channels]


def table(results: Sequence[DeliveryResult]) -> list[str]:
    """`id  type  outcome  status  ms  [detail]`, aligned; the detail only when not delivered."""
    width = max(len(r.channel_id) for r in results)
    lines = []
    for r in results:
        status = "-" if r.status is None else str(r.status)
        detail = "" if r.outcome is Outcome.DELIVERED else r.detail
        line = (
            f"{r.channel_id:<{width}}  {r.channel_type.value:<9}  {r.outcome.value:<12} "
            f"{status:>3}  {r.duration_ms:>6.0f} ms  {detail}"
        )
        lines.append(line.rstrip())
    return lines


def main(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, stream=sys.stderr)
    path = settings.webhook_channels_file
    if path is None:
        print("send-test: WEBHOOK_CHANNELS_FILE is not set", file=sys.stderr)
        return 2
    try:
        channels = load_channels_file(path, url_policy(settings))
    except ChannelsError as exc:
        for problem in exc.problems:
            print(f"send-test: {path}: {problem}", file=sys.stderr)
        return 2
    try:
        selected = select(channels, args.channel, args.project)
    except SelectionError as exc:
        print(f"send-test: {exc}", file=sys.stderr)
        return 2
    results = asyncio.run(send(settings, selected))
    for line in table(results):
        print(line)
    delivered = sum(r.outcome is Outcome.DELIVERED for r in results)
    print(f"send-test: {delivered} of {len(results)} delivered", file=sys.stderr)
    return 0 if delivered == len(results) else 1
