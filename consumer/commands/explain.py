"""`webhook-consumer explain --topic T [FILE|-]`: an offline dry run for one event (§6).

Prints one JSON object: does it fire, of which kind, why, the common text, and the JSON body each
registered channel type would post (rendered for an example channel on the type's official host).
An invalid event or an unreadable file is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

import orjson

from consumer.channel import ChannelConfig, ChannelType
from consumer.channels import CHANNELS
from consumer.decode import MAX_RECORD_BYTES, TopicSchema, decode
from consumer.errors import DecodeError
from consumer.message import build_notification
from consumer.notification import Notification
from consumer.rules import decide

PROG: Final = "webhook-consumer explain"

#: Placeholder webhook URLs on each type's official host; nothing is ever sent to them.
EXAMPLE_URLS: Final[dict[ChannelType, str]] = {
    ChannelType.SLACK: "https://hooks.slack.com/services/EXAMPLE",
    ChannelType.DISCORD: "https://discord.com/api/webhooks/EXAMPLE",
    ChannelType.TEAMS: "https://example.webhook.office.com/webhookb2/EXAMPLE",
    ChannelType.KAKAOWORK: "https://kakaowork.com/bots/hook/EXAMPLE",
    ChannelType.TELEGRAM: "https://api.telegram.org/botEXAMPLE/sendMessage",
}
EXAMPLE_CHAT_ID: Final = "-100000000000"


def main(args: argparse.Namespace) -> int:
    schema: TopicSchema = args.topic
    try:
        value = _read(args.file)
    except OSError as exc:
        print(f"{PROG}: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        event = decode(schema, value)
    except DecodeError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    decision = decide(event)
    notification = build_notification(event) if decision.fires else None
    answer = {
        "fires": decision.fires,
        "kind": decision.kind,
        "reason": decision.reason,
        "text": notification.text() if notification else None,
        "payloads": example_payloads(notification) if notification else {},
    }
    sys.stdout.buffer.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


def example_payloads(notification: Notification) -> dict[str, Any]:
    """The JSON body every registered channel type would post for this notification."""
    payloads: dict[str, Any] = {}
    for channel_type in ChannelType:
        module = CHANNELS.get(channel_type)
        if module is None:
            continue
        request = module.render(notification, example_channel(channel_type))
        payloads[channel_type.value] = orjson.loads(request.body_bytes())  # as on the wire
    return payloads


def example_channel(channel_type: ChannelType) -> ChannelConfig:
    return ChannelConfig.model_validate(
        {
            "id": f"example-{channel_type.value}",
            "project_id": "proj_example",
            "type": channel_type,
            "url": EXAMPLE_URLS[channel_type],
            "chat_id": EXAMPLE_CHAT_ID if channel_type is ChannelType.TELEGRAM else None,
        }
    )


def _read(file: str) -> bytes:
    """At most one byte more than a record may hold: decode rejects anything larger."""
    if file == "-":
        return sys.stdin.buffer.read(MAX_RECORD_BYTES + 1)
    with Path(file).open("rb") as handle:
        return handle.read(MAX_RECORD_BYTES + 1)
