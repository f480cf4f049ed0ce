"""Slack incoming webhooks: one `text` message in mrkdwn, escaped so event data stays text.

Slack's escaping rule is `&`, `<` and `>` and nothing else. With them escaped, event data can
open no `<!channel>`, `<!here>`, `<@U…>` or `<url|link>` markup: every piece of control syntax
starts with `<`. Link unfurling is off, so Slack never fetches the verify link for a preview.

Docs: https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks
      https://docs.slack.dev/messaging/formatting-message-text#escaping
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from consumer.channel import ChannelConfig, ChannelType
from consumer.channels.base import (
    OutboundRequest,
    Outcome,
    Verdict,
    by_status,
    json_object,
    with_detail,
)
from consumer.channels.text import Piece, escape_html, fit, message_pieces, units
from consumer.notification import Notification

TYPE: ChannelType = ChannelType.SLACK
#: "Posting messages: 1 per second, short bursts >1 allowed."
#: https://docs.slack.dev/apis/web-api/rate-limits
RATE_PER_S: float = 1.0
BURST: int = 2

#: "For best results, limit the number of characters in the text field to 4,000 characters"
#: (Slack truncates at 40,000). https://docs.slack.dev/reference/methods/chat.postMessage
MAX_TEXT_CHARS: Final = 4000

#: Error bodies are short codes: `invalid_payload`, `channel_is_archived`, `no_service`, ...
#: https://docs.slack.dev/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
_ERROR_CODE = re.compile(r"[a-z][a-z_]{0,47}")


def render(notification: Notification, channel: ChannelConfig) -> OutboundRequest:
    pieces = fit(message_pieces(notification), MAX_TEXT_CHARS + 1, _cost)  # + the last "\n"
    body = {
        "text": "\n".join(_line(p) for p in pieces),
        "unfurl_links": False,
        "unfurl_media": False,
    }
    return OutboundRequest(url=channel.url, body=body)


def classify(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    """200 `ok` is delivered; 200 with anything else is an error Slack reports in the body."""
    text = body.decode("utf-8", "replace").strip()
    if 200 <= status < 300:
        answer = json_object(body)
        if text == "ok" or (answer is not None and answer.get("ok") is True):
            return Verdict(Outcome.DELIVERED)
        error = answer.get("error") if answer is not None else text
        code = _code(error) or "unexpected answer"
        return Verdict(Outcome.REJECTED, None, f"http {status} {code}")
    return with_detail(by_status(status, headers), _code(text))


def _code(text: object) -> str:
    return text if isinstance(text, str) and _ERROR_CODE.fullmatch(text) else ""


def _line(piece: Piece) -> str:
    return escape_html(piece.line())


def _cost(piece: Piece) -> int:
    return units(_line(piece)) + 1  # "\n"
