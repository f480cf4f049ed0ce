"""Discord webhooks: one embed (title, markdown description, colour, verify link on the title).

Event data is made inert three ways: `allowed_mentions: {"parse": []}` on every message (nothing
pings, whatever the text says), a zero-width space after the `@` of `@everyone` and `@here` (so
they do not even look live), and a backslash before every markdown character that matters:
emphasis, code, spoilers, the `(` of a `[text](url)` masked link, and the `<` of `<@id>`,
`<#id>` and `<t:…>` tokens. The verify link is the embed's URL and an `<autolink>`.

Docs: https://discord.com/developers/docs/resources/webhook#execute-webhook
      https://discord.com/developers/docs/resources/message#allowed-mentions-object
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
    retry_after_header,
    safe_words,
    seconds,
    with_detail,
)
from consumer.channels.text import (
    Piece,
    Role,
    Tone,
    clip_to,
    fit,
    link_target,
    markdown_escaper,
    message_pieces,
    tone,
    units,
)
from consumer.notification import Notification

TYPE: ChannelType = ChannelType.DISCORD
#: Webhooks: 5 requests per 2 s per webhook, and 30 messages per minute per channel; the
#: per-channel figure is the sustained rate, the per-webhook one the burst.
#: https://discord.com/developers/docs/topics/rate-limits
RATE_PER_S: float = 0.5
BURST: int = 5

#: Embed limits. https://discord.com/developers/docs/resources/message#embed-object-embed-limits
MAX_TITLE_CHARS: Final = 256
MAX_DESCRIPTION_CHARS: Final = 4096
MAX_EMBED_TOTAL_CHARS: Final = 6000  # title + description + fields + footer + author, all embeds
MAX_CONTENT_CHARS: Final = 2000  # `content` (unused: everything goes in the embed)

COLOURS: Final[dict[Tone, int]] = {
    "danger": 0xED4245,
    "warning": 0xFEE75C,
    "good": 0x57F287,
    "info": 0x5865F2,
}

_escape_markdown = markdown_escaper("*_~`|<>")
_LINE_START = ("#", "-", "+")  # headings and lists, only at the start of a line
_MASS_MENTION = re.compile(r"@(?=(?:everyone|here)\b)", re.IGNORECASE)
_ZWSP = "\u200b"


def escape(text: str) -> str:
    """Markdown-escaped, with `@everyone` and `@here` broken by a zero-width space."""
    text = _MASS_MENTION.sub("@" + _ZWSP, _escape_markdown(text))
    return "\\" + text if text.startswith(_LINE_START) else text


def render(notification: Notification, channel: ChannelConfig) -> OutboundRequest:
    title, *lines = message_pieces(notification)
    embed: dict[str, object] = {
        "title": clip_to(title.text, MAX_TITLE_CHARS, escape),
        "color": COLOURS[tone(notification)],
    }
    link = link_target(notification.verify_url)
    if link:
        embed["url"] = link
    if lines:
        rendered = [_line(p) for p in lines]  # escaped once; fitted only when over the limit
        if sum(units(r) + 1 for r in rendered) > MAX_DESCRIPTION_CHARS + 1:  # + the last "\n"
            rendered = [_line(p) for p in fit(lines, MAX_DESCRIPTION_CHARS + 1, _cost)]
        embed["description"] = "\n".join(rendered)
    body = {"embeds": [embed], "allowed_mentions": {"parse": []}}
    return OutboundRequest(url=channel.url, body=body)


def classify(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    """204 (200 with `?wait=true`) is delivered; 429 says when in its JSON body and headers."""
    if 200 <= status < 300:
        return Verdict(Outcome.DELIVERED)
    answer = json_object(body) or {}
    if status == 429:
        # `retry_after` is seconds (a float) since API v8; the Retry-After header is seconds
        # too. The smaller one is right for either reading of an unversioned URL.
        found = (seconds(answer.get("retry_after")), retry_after_header(headers))
        waits = [w for w in found if w is not None]
        scope = "global rate limit" if answer.get("global") is True else "rate limited"
        return Verdict(Outcome.RATE_LIMITED, min(waits) if waits else None, f"http 429 {scope}")
    code = answer.get("code")
    extra = f"code {code}" if isinstance(code, int) and not isinstance(code, bool) else ""
    message = answer.get("message")
    if isinstance(message, str):
        extra = f"{extra} {safe_words(message, 40)}".strip()
    return with_detail(by_status(status, headers), extra)


def _line(piece: Piece) -> str:
    if piece.role is Role.VERIFY and link_target(piece.text):
        return f"**{escape(piece.label)}:** <{piece.text}>"  # an autolink: no markdown inside
    return f"**{escape(piece.label)}:** {escape(piece.text)}"


def _cost(piece: Piece) -> int:
    return units(_line(piece)) + 1  # "\n"
