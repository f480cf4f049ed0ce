"""Microsoft Teams through a Workflows (Power Automate) webhook: one Adaptive Card.

The card has a title TextBlock, a FactSet with one fact per field, and an `Action.OpenUrl`
"Verify" button for the verify link. TextBlock and fact texts go through Teams' markdown, so
event data gets a backslash before emphasis and code characters, before the `(` of a
`[text](url)` link, before the `{` of a `{{DATE(…)}}` / `{{TIME(…)}}` function, and before the
marker of a list item it would start (`- x`, `1. x`). Teams renders no HTML, and no `<at>`
mention without an `msteams.entities` list, which we never send. The whole JSON body stays within
the ~28 KB Teams accepts: `fit` shrinks the texts with their cost counted in JSON bytes.

Docs: https://learn.microsoft.com/en-us/connectors/teams/#microsoft-teams-webhook
      https://adaptivecards.io/explorer/AdaptiveCard.html
      https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-format
      https://learn.microsoft.com/en-us/adaptive-cards/authoring-cards/text-features
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from consumer.channel import ChannelConfig, ChannelType
from consumer.channels.base import (
    OutboundRequest,
    Outcome,
    Verdict,
    by_status,
    json_object,
    with_detail,
)
from consumer.channels.text import (
    Piece,
    Role,
    Tone,
    clean,
    field_pieces,
    fit,
    json_bytes,
    link_target,
    markdown_escaper,
    tone,
)
from consumer.notification import Notification

TYPE: ChannelType = ChannelType.TEAMS
#: Teams throttles a webhook sending "more than four requests in a second"; Workflows publish
#: no per-URL figure, so we pace at a conservative 1 / s with that burst.
#: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
RATE_PER_S: float = 1.0
BURST: int = 4

#: "the message size limit is about 28 KB" (the whole request body).
#: https://learn.microsoft.com/en-us/connectors/teams/#known-issues-and-limitations-with-actions
MAX_PAYLOAD_BYTES: Final = 28_000
#: Adaptive Card schema version: 1.4 is what Teams renders everywhere (1.2+ is required).
#: https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference
CARD_VERSION: Final = "1.4"
CONTENT_TYPE: Final = "application/vnd.microsoft.card.adaptive"
SCHEMA: Final = "http://adaptivecards.io/schemas/adaptive-card.json"

COLOURS: Final[dict[Tone, str]] = {
    "danger": "Attention",
    "warning": "Warning",
    "good": "Good",
    "info": "Default",
}

_escape_markdown = markdown_escaper("*_~`{")
# A list item a text would start: "- x", "+ x", "1. x", "1) x" (Fact.Value renders lists).
_BULLET_START = re.compile(r"^(?=[-+](?:\s|$))")
_NUMBER_START = re.compile(r"^(\d{1,9})(?=[.)](?:\s|$))")


def escape(text: str) -> str:
    """Teams markdown escaped: emphasis, code, links, date functions and a leading list marker."""
    text = _escape_markdown(text)
    text = _BULLET_START.sub("\\\\", text)
    return _NUMBER_START.sub(r"\1\\", text)


# A Workflows error: `{"error": {"code": "TriggerInputSchemaMismatch", "message": ...}}`.
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z.]{0,63}")
# Retired O365 connectors answered 200 with this text for a failure.
_LEGACY_ERROR = re.compile(r"returned HTTP error (\d{3})", re.IGNORECASE)


def render(notification: Notification, channel: ChannelConfig) -> OutboundRequest:
    link = link_target(notification.verify_url)
    facts = [p for p in field_pieces(notification) if not (link and p.role is Role.VERIFY)]
    title = Piece(Role.TITLE, clean(notification.title))
    colour = COLOURS[tone(notification)]
    # The card with every text empty: what is left of the limit is for the texts.
    blank = [Piece(p.role, "", "") for p in facts]
    skeleton = _request(channel, _card(Piece(Role.TITLE, ""), blank, link, colour))
    budget = MAX_PAYLOAD_BYTES - len(skeleton.body_bytes())
    while True:
        fitted = fit([title, *facts], budget, _cost)
        request = _request(channel, _card(fitted[0], fitted[1:], link, colour))
        overshoot = len(request.body_bytes()) - MAX_PAYLOAD_BYTES
        if overshoot <= 0 or budget <= 0:
            return request
        budget -= overshoot  # our byte count was short (it never is): fit again, tighter


def classify(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    """Workflows answer 202 (or 200); errors carry `{"error": {"code", "message"}}`."""
    if 200 <= status < 300:
        legacy = _LEGACY_ERROR.search(body[:512].decode("utf-8", "replace"))
        if legacy:
            inner = int(legacy.group(1))
            return with_detail(by_status(inner, headers), "(reported under http 200)")
        return Verdict(Outcome.DELIVERED)
    answer = json_object(body) or {}
    error = answer.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    extra = code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ""
    return with_detail(by_status(status, headers), extra)


def _card(title: Piece, facts: list[Piece], link: str | None, colour: str) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": escape(title.text),
            "weight": "Bolder",
            "size": "Medium",
            "color": colour,
            "wrap": True,
        }
    ]
    if facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": escape(f.label), "value": escape(f.text)} for f in facts],
            }
        )
    card: dict[str, Any] = {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
    }
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Verify", "url": link}]
    return card


def _request(channel: ChannelConfig, card: dict[str, Any]) -> OutboundRequest:
    body = {
        "type": "message",
        "attachments": [{"contentType": CONTENT_TYPE, "contentUrl": None, "content": card}],
    }
    return OutboundRequest(url=channel.url, body=body)


def _cost(piece: Piece) -> int:
    return json_bytes(escape(piece.label)) + json_bytes(escape(piece.text))
