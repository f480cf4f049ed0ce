"""The `webhook-consumer` command line (ARCHITECTURE.md §6).

User mistakes (a bad flag, an invalid event or channels file, a bad environment variable) end
with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from consumer import __version__
from consumer.config import env_help
from consumer.errors import WebhookError

Handler = Callable[[argparse.Namespace], int]


def _command(module: str) -> Handler:
    """Import `consumer.commands.<module>` only when its command runs (fast `--help`)."""

    def handler(args: argparse.Namespace) -> int:
        try:
            mod = importlib.import_module(f"consumer.commands.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"consumer.commands.{module}":
                raise
            print(f"webhook-consumer {args.command}: not implemented yet", file=sys.stderr)
            return 2
        result: int = mod.main(args)
        return result

    return handler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="webhook-consumer",
        description="Turn Transcodes audit and hosted-auth session events on Kafka into chat "
        "notifications (Slack, Discord, Microsoft Teams, KakaoWork, Telegram).",
        epilog="environment (read by `run` and `send-test`):\n" + env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="run the service (configuration from the environment)",
        epilog="environment:\n" + env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.set_defaults(handler=_command("run"))

    explain = sub.add_parser("explain", help="dry-run one event: does it notify, and what it says")
    explain.add_argument(
        "--topic",
        required=True,
        choices=["audit-log", "hosted-auth-sessions"],
        help="which topic's contract the event follows",
    )
    explain.add_argument("file", nargs="?", default="-", help="event JSON file, or - for stdin")
    explain.set_defaults(handler=_command("explain"))

    send_test = sub.add_parser(
        "send-test", help="post the test message to the active channels of the channels file"
    )
    send_test.add_argument("--channel", help="only this channel id")
    send_test.add_argument("--project", help="only this project's channels")
    send_test.set_defaults(handler=_command("send_test"))

    channels = sub.add_parser("channels", help="channel directory tools")
    channels_sub = channels.add_subparsers(dest="channels_command", metavar="ACTION", required=True)
    validate = channels_sub.add_parser("validate", help="check a channels file")
    validate.add_argument("file", help="channels file (YAML or JSON)")
    validate.set_defaults(handler=_command("channels_validate"))

    schemas = sub.add_parser(
        "schemas", help="write the JSON Schemas of the event and channel models"
    )
    schemas.add_argument("--out", default="schemas", help="output directory [default: schemas]")
    schemas.set_defaults(handler=_command("schemas"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except WebhookError as exc:
        print(f"webhook-consumer: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
