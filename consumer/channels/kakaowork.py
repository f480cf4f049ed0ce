"""KakaoWork incoming webhooks: a `text` fallback plus Block Kit blocks.

Blocks: a header (the kind of alert, coloured), a text block with the title, one description
block per field (term = label, content = value), and a "Verify" button that opens the verify
link in the system browser. Every text block is sent with `markdown: false`, so event data
is shown as typed; `text` is the plain fallback shown in notifications and the chat list.

Docs: https://docs.kakaoi.ai/kakao_work/blockkit/  (header, text, description, button blocks)
      https://docs.kakaoi.ai/kakao_work/blockkit/buttonblock/
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
    clip_to,
    field_pieces,
    fit,
    link_target,
    message_pieces,
    tone,
    units,
)
from consumer.notification import Notification, NotificationKind

TYPE: ChannelType = ChannelType.KAKAOWORK
#: KakaoWork publishes no rate for incoming webhooks; a conservative 1 / s, small bursts.
RATE_PER_S: float = 1.0
BURST: int = 2

#: Block Kit limits (characters). https://docs.kakaoi.ai/kakao_work/blockkit/
MAX_HEADER_CHARS: Final = 20  # header block text
MAX_TEXT_BLOCK_CHARS: Final = 500  # text block text (also a description's content)
MAX_TERM_CHARS: Final = 10  # description block term
MAX_BUTTON_CHARS: Final = 20  # button text: "최대 20자까지 입력" (buttonblock/)
#: No limit is published for the message `text` fallback: the text block's limit is ours.
MAX_TEXT_CHARS: Final = MAX_TEXT_BLOCK_CHARS
#: Blocks per message: none published; the bound we keep under.
MAX_BLOCKS: Final = 50

HEADERS: Final[dict[NotificationKind, str]] = {
    "audit": "Audit alert",
    "session": "Step-up requested",
    "test": "Webhook test",
}
STYLES: Final[dict[Tone, str]] = {
    "danger": "red",
    "warning": "yellow",
    "good": "blue",
    "info": "blue",
}
# Web API errors: `{"success": false, "error": {"code": "invalid_parameter", "message": ...}}`.
_ERROR_CODE = re.compile(r"[a-z][a-z_]{0,47}")


def render(notification: Notification, channel: ChannelConfig) -> OutboundRequest:
    link = link_target(notification.verify_url)
    fields = [p for p in field_pieces(notification) if not (link and p.role is Role.VERIFY)]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": clip_to(HEADERS[notification.kind], MAX_HEADER_CHARS),
            "style": STYLES[tone(notification)],
        },
        _text_block(clean(notification.title)),
    ]
    room = MAX_BLOCKS - len(blocks) - (1 if link else 0)
    blocks += [_description(p) for p in fields[:room]]
    if link:
        blocks.append(
            {
                "type": "button",
                "text": "Verify",
                "style": "primary",
                "action": {"type": "open_system_browser", "value": link},
            }
        )
    fallback = fit(message_pieces(notification), MAX_TEXT_CHARS + 1, _cost)  # + the last "\n"
    body = {"text": "\n".join(p.line() for p in fallback), "blocks": blocks}
    return OutboundRequest(url=channel.url, body=body)


def classify(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    """2xx is delivered unless the answer says `"success": false`."""
    answer = json_object(body) or {}
    error = answer.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    extra = code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ""
    if 200 <= status < 300:
        if answer.get("success") is False:
            return Verdict(Outcome.REJECTED, None, f"http {status} {extra or 'success false'}")
        return Verdict(Outcome.DELIVERED)
    return with_detail(by_status(status, headers), extra)


def _text_block(text: str) -> dict[str, Any]:
    shown = clip_to(text, MAX_TEXT_BLOCK_CHARS) or "-"  # a text block must not be empty
    return {"type": "text", "text": shown, "markdown": False}


def _description(piece: Piece) -> dict[str, Any]:
    return {
        "type": "description",
        "term": clip_to(piece.label, MAX_TERM_CHARS),
        "content": _text_block(piece.text),
        "accent": True,
    }


def _cost(piece: Piece) -> int:
    return units(piece.line()) + 1  # "\n"
