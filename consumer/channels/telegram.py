"""Telegram Bot API `sendMessage`: HTML parse mode, escaped text, no link preview.

The channel URL may be the full `https://api.telegram.org/bot<token>/sendMessage` or just the
bot's base URL (`.../bot<token>`, with or without a trailing slash, or with another method
name): `send_message_url` makes it the `sendMessage` endpoint. The target chat is the channel's
`chat_id` (a secret like the token: it only ever appears in the request body).

The only tag in the text is our `<b>` around the title; `&`, `<` and `>` of event data are
escaped, so it can open no tag and no link. Telegram makes every `@username` in a text a mention,
which notifies that user: event data gets a zero-width space after such an `@`, so it stays text
(an `@` inside a word, as in an e-mail address, is no mention and is left alone). The preview is
disabled so Telegram never fetches the verify link.

Docs: https://core.telegram.org/bots/api#sendmessage
      https://core.telegram.org/bots/api#html-style
      https://core.telegram.org/api/mentions
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit, urlunsplit

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
)
from consumer.channels.text import Piece, Role, escape_html, fit, message_pieces, units
from consumer.errors import ChannelsError
from consumer.notification import Notification

TYPE: ChannelType = ChannelType.TELEGRAM
#: "avoid sending more than one message per second" in a chat, and "not more than 20 messages
#: per minute to the same group"; alert chats are groups, so 20 / min, with short bursts.
#: https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
RATE_PER_S: float = 20 / 60
BURST: int = 3

#: `text`: "1-4096 characters after entities parsing". The HTML source is kept within 4096
#: too, which bounds the parsed text. https://core.telegram.org/bots/api#sendmessage
MAX_TEXT_CHARS: Final = 4096

METHOD: Final = "sendMessage"
_BOT_SEGMENT = re.compile(r"bot[^/]+")
# An `@` that starts a mention: not after a username character, and followed by one.
_MENTION = re.compile(r"(?<![A-Za-z0-9_])@(?=[A-Za-z0-9_])")
_ZWSP = "\u200b"


def send_message_url(url: str) -> str:
    """The `sendMessage` endpoint of the bot a channel URL names (see module docstring).

    A URL with no `/bot<token>` segment (a local test sink) is used as it is.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url  # the URL policy refuses it before anything is sent
    segments = parts.path.rstrip("/").split("/")
    if _BOT_SEGMENT.fullmatch(segments[-1]):
        segments.append(METHOD)
    elif len(segments) >= 2 and _BOT_SEGMENT.fullmatch(segments[-2]):
        segments[-1] = METHOD
    else:
        return url
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), parts.query, ""))


def render(notification: Notification, channel: ChannelConfig) -> OutboundRequest:
    if not channel.chat_id:
        raise ChannelsError([f"channel {channel.id!r}: chat_id is required for telegram"])
    pieces = fit(message_pieces(notification), MAX_TEXT_CHARS + 1, _cost)  # + the last "\n"
    body = {
        "chat_id": channel.chat_id,
        "text": "\n".join(_line(p) for p in pieces),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    return OutboundRequest(url=send_message_url(channel.url), body=body)


def classify(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    """Telegram answers `{"ok": true, ...}` or `{"ok": false, "error_code", "description",
    "parameters": {"retry_after"}}`; `error_code` decides, even under an HTTP 200."""
    answer = json_object(body)
    if answer is None or not isinstance(answer.get("ok"), bool):
        return by_status(status, headers)
    if answer["ok"]:
        return Verdict(Outcome.DELIVERED)
    code = answer.get("error_code")
    if not isinstance(code, int) or isinstance(code, bool):
        code = status
    description = answer.get("description")
    phrase = safe_words(description, 60) if isinstance(description, str) else ""
    detail = f"telegram {code} {phrase}".strip()
    parameters = answer.get("parameters")
    params = parameters if isinstance(parameters, dict) else {}
    if "migrate_to_chat_id" in params:
        detail = f"telegram {code} the group became a supergroup: update chat_id"
    if code == 429:
        wait = seconds(params.get("retry_after"))
        wait = wait if wait is not None else retry_after_header(headers)
        return Verdict(Outcome.RATE_LIMITED, wait, detail)
    if 400 <= code < 500:
        return Verdict(Outcome.REJECTED, None, detail)
    return Verdict(Outcome.FAILED, None, detail)


def escape(text: str) -> str:
    """HTML-escaped, with every `@username` mention broken by a zero-width space."""
    return _MENTION.sub("@" + _ZWSP, escape_html(text))


def _line(piece: Piece) -> str:
    if piece.role is Role.TITLE:
        return f"<b>{escape(piece.text)}</b>"
    if piece.role is Role.VERIFY:
        return escape_html(piece.line())  # the link stays whole
    return escape(piece.line())


def _cost(piece: Piece) -> int:
    return units(_line(piece)) + 1  # "\n"
