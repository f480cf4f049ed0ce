"""Redaction of secrets before they reach a log line, an error message, a metric or the console.

Webhook URLs are bearer credentials (Slack and Discord paths, Teams `sig`, the Telegram bot
token), and so are Telegram chat ids. Only the scheme, the host and a short tail survive.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_URL_RE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")
_MASK = "***"


def redact_url(url: str) -> str:
    """`https://hooks.slack.com/services/T0/B0/XXXX` -> `https://hooks.slack.com/***`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return _MASK
    if not parts.scheme or not host:
        return _MASK
    return f"{parts.scheme}://{host}{port}/{_MASK}"


def redact_chat_id(chat_id: str | int | None) -> str:
    """Keep the last two characters of a chat id: enough to tell two apart, not to use one."""
    if chat_id is None:
        return ""
    text = str(chat_id)
    return _MASK + text[-2:] if len(text) > 4 else _MASK


def scrub_text(text: str) -> str:
    """Replace every URL inside free text (an exception message, say) by its redacted form."""
    return _URL_RE.sub(lambda m: redact_url(m.group(0)), text)
