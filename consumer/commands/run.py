"""`webhook-consumer run`: the service, until SIGTERM or SIGINT.

The first signal starts a graceful stop (stop fetching, finish in-flight attempts, commit, close,
exit 0). A second signal exits at once (exit code 130): offsets not yet committed are read again
by whoever takes the partitions over (at-least-once).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from consumer.config import Settings, load_settings
from consumer.errors import ChannelsError
from consumer.logs import configure_logging, get_logger
from consumer.service import ChannelSource, Service

log = get_logger("consumer.run")


def build_directory(settings: Settings) -> ChannelSource:
    from consumer.directory import build_channel_source

    return build_channel_source(settings)


async def serve(settings: Settings) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = 0

    def on_signal(signum: int) -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            log.info("stopping", signal=signal.Signals(signum).name)
            stop.set()
        else:
            log.warning("second signal: exiting now", signal=signal.Signals(signum).name)
            os._exit(130)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    if settings.webhook_allow_insecure_targets:
        log.warning(
            "insecure_targets_allowed",
            note="WEBHOOK_ALLOW_INSECURE_TARGETS=true: http and any host, loopback included, "
            "are accepted as webhook targets; for tests and local demos only",
        )
    service = Service(settings, build_directory(settings))
    await service.run(stop)
    return 0


def main(_args: argparse.Namespace) -> int:
    settings = load_settings()  # a bad environment fails here, naming the variable
    configure_logging(settings.log_level, settings.log_format)
    try:
        return asyncio.run(serve(settings))
    except ChannelsError as exc:  # an operator's mistake: say what is wrong, no traceback
        log.error("channels_file_rejected", problems=exc.problems)
        print("webhook-consumer run: the channels file is invalid:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except Exception as exc:
        log.exception("service_crashed", error=type(exc).__name__)
        return 1
