"""What a chat reader would see of a rendered payload, and what must never be there.

`problems(channel_type, body, notification)` lists every way a body breaks the hardening rules:

- limits: each provider's limits (the contract test's checks, written from the providers' docs);
- markup: event data stays text (the contract test's checks per provider, plus: Slack has no
  `link_names` or `parse`, Teams has only our card elements and our one action and no list item
  or `{{DATE()}}` function, KakaoWork has markdown off everywhere, Telegram has only our `<b>`);
- mentions: none can fire (Discord `allowed_mentions` empty and `@everyone` / `@here` broken,
  Telegram `@username` broken, Slack and Telegram without any `<`);
- forged lines: the body has exactly the lines (or facts, or blocks) of the notification, each
  under one of our labels, and a `Verify` line only when the notification has a verify link;
- invisible characters: none, except the zero-width space that breaks a mention after an `@`.

`pipeline(schema, value)` runs the pure stages (decode, decide, message, every renderer) the way
the service does and returns what each channel type would be sent.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import orjson

from consumer.channel import ChannelConfig, ChannelType
from consumer.channels import CHANNELS
from consumer.decode import TopicSchema, decode
from consumer.message import build_notification
from consumer.notification import Notification
from consumer.rules import Decision, decide
from tests.channels.test_contract import INERT, LIMITS, strings, telegram_tags
from tests.hardening.credentials import CHAT_ID

#: The labels our messages use (ARCHITECTURE.md §3); a line under any other label is forged.
LABELS: Final = frozenset(
    {
        "Status",
        "Severity",
        "Actor",
        "Role",
        "Time",
        "Metadata",
        "Resource",
        "Action",
        "Reason",
        "Verify",
        "Expires",
    }
)
# Zero-width, bidi and other invisible format characters (the mention breaker is allowed below).
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)
# A Telegram `@username` mention: an `@` not preceded by a word character, then a name character.
_TELEGRAM_MENTION = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9_]")
_MASS_MENTION = re.compile(r"@(everyone|here)\b", re.IGNORECASE)
# Teams markdown: a list item starting a text, and backslash escapes.
_LIST_ITEM = re.compile(r"([-+]|\d{1,9}[.)])(\s|$)")
_ESCAPED = re.compile(r"\\.")


@dataclass(frozen=True)
class Rendered:
    decision: Decision
    notification: Notification | None
    bodies: dict[ChannelType, dict[str, Any]]


def example_channel(channel_type: ChannelType) -> ChannelConfig:
    urls = {
        ChannelType.SLACK: "https://hooks.slack.com/services/T0/B0/example",
        ChannelType.DISCORD: "https://discord.com/api/webhooks/1/example",
        ChannelType.TEAMS: "https://x.webhook.office.com/webhookb2/example",
        ChannelType.KAKAOWORK: "https://kakaowork.com/bots/hook/example",
        ChannelType.TELEGRAM: "https://api.telegram.org/bot1:example/sendMessage",
    }
    return ChannelConfig(
        id=f"ex-{channel_type.value}",
        project_id="proj",
        type=channel_type,
        url=urls[channel_type],
        chat_id=CHAT_ID if channel_type is ChannelType.TELEGRAM else None,
    )


def render_all(notification: Notification) -> dict[ChannelType, dict[str, Any]]:
    """The JSON body each channel type would post, as it goes on the wire."""
    bodies = {}
    for channel_type, module in CHANNELS.items():
        request = module.render(notification, example_channel(channel_type))
        bodies[channel_type] = orjson.loads(request.body_bytes())
    return bodies


def pipeline(schema: TopicSchema, value: bytes | None) -> Rendered:
    """decode -> decide -> message -> every renderer; raises only `DecodeError`."""
    event = decode(schema, value)
    decision = decide(event)
    if not decision.fires:
        return Rendered(decision, None, {})
    notification = build_notification(event)
    return Rendered(decision, notification, render_all(notification))


def problems(
    channel_type: ChannelType, body: dict[str, Any], notification: Notification
) -> list[str]:
    """Every hardening rule `body` breaks (see the module docstring); [] when none."""
    found = [f"limit: {p}" for p in LIMITS[channel_type](body)]
    found += [f"markup: {p}" for p in INERT[channel_type](body)]
    found += _invisible(body)
    found += _CHECKS[channel_type](body, notification)
    return found


def expected_labels(notification: Notification, *, per_field: bool = False) -> list[str]:
    """The labels of the notification's lines, in order (joined fields share a line unless
    `per_field`)."""
    labels: list[str] = []
    for f in notification.fields:
        if per_field or not (f.same_line and labels):
            labels.append(f.label)
    if notification.verify_url and "Verify" not in labels:
        labels.append("Verify")
    return labels


def _invisible(body: dict[str, Any]) -> list[str]:
    text = "\n".join(strings(body)).replace("@\u200b", "@")
    return [f"invisible character U+{ord(m.group()):04X}" for m in _INVISIBLE.finditer(text)]


def _line_labels(
    lines: list[str], notification: Notification, prefix: str = "", *, per_field: bool = False
) -> list[str]:
    """Problems of lines `Label: value` (the title excluded): unknown labels, extra lines, a
    missing or second Verify line. `per_field`: one line per field (facts, blocks), unjoined."""
    found = []
    labels = []
    for line in lines:
        label, sep, _ = line.removeprefix(prefix).partition(":")
        if not sep or label not in LABELS:
            found.append(f"forged line: {line[:60]!r}")
        labels.append(label)
    wanted = expected_labels(notification, per_field=per_field)
    if not _subsequence([x for x in labels if x != "Verify"], [x for x in wanted if x != "Verify"]):
        found.append(f"lines {labels} are not the notification's {wanted}")
    verify = labels.count("Verify")
    if verify != (1 if notification.verify_url else 0):
        found.append(f"{verify} Verify lines")
    return found


def _subsequence(items: list[str], of: list[str]) -> bool:
    it: Iterator[str] = iter(of)
    return all(any(x == y for y in it) for x in items)


def _slack(body: dict[str, Any], notification: Notification) -> list[str]:
    found = [f"slack {key} is set" for key in ("link_names", "parse") if key in body]
    if body.get("unfurl_links") is not False or body.get("unfurl_media") is not False:
        found.append("slack unfurling is on")
    lines = html.unescape(body["text"]).split("\n")
    return found + _line_labels(lines[1:], notification)


def _discord(body: dict[str, Any], notification: Notification) -> list[str]:
    found = []
    if "content" in body:
        found.append("discord content is set")
    (embed,) = body["embeds"]
    if "url" in embed and embed["url"] != notification.verify_url:
        found.append("discord embed links elsewhere than the verify link")
    for text in (embed["title"], embed.get("description", "")):
        if _MASS_MENTION.search(text.replace("\\", "")):
            found.append("discord mass mention")
    lines = embed.get("description", "").split("\n") if embed.get("description") else []
    return found + _line_labels(lines, notification, prefix="**")


def _teams(body: dict[str, Any], notification: Notification) -> list[str]:
    found = []
    if set(body) != {"type", "attachments"} or len(body["attachments"]) != 1:
        found.append("teams message has extra parts")
    card = body["attachments"][0]["content"]
    if set(card) - {"$schema", "type", "version", "body", "actions"}:
        found.append(f"teams card has extra keys {sorted(set(card))}")
    kinds = [element["type"] for element in card["body"]]
    if kinds not in (["TextBlock"], ["TextBlock", "FactSet"]):
        found.append(f"teams card body is {kinds}")
    for element in card["body"]:
        allowed = {"type", "text", "weight", "size", "color", "wrap", "facts"}
        if set(element) - allowed:
            found.append(f"teams element has extra keys {sorted(set(element) - allowed)}")
    actions = card.get("actions", [])
    wanted = [{"type": "Action.OpenUrl", "title": "Verify", "url": notification.verify_url}]
    if actions and actions != wanted:
        found.append(f"teams actions are {actions}")
    texts = [e["text"] for e in card["body"] if "text" in e]
    texts += [f[k] for e in card["body"] for f in e.get("facts", []) for k in ("title", "value")]
    for text in texts:
        if _LIST_ITEM.match(text):
            found.append(f"teams list item: {text[:30]!r}")
        if "{{" in _ESCAPED.sub("", text):
            found.append(f"teams date function: {text[:30]!r}")
    facts = [f["title"] for e in card["body"] for f in e.get("facts", [])]
    lines = [f"{title}: x" for title in facts]
    if actions:
        lines.append("Verify: (the button)")
    return found + _line_labels(lines, notification, per_field=True)


def _kakaowork(body: dict[str, Any], notification: Notification) -> list[str]:
    found = []
    kinds = [b["type"] for b in body["blocks"]]
    if kinds[:2] != ["header", "text"] or set(kinds[2:]) - {"description", "button"}:
        found.append(f"kakaowork blocks are {kinds}")
    for block in body["blocks"]:
        if block["type"] == "button":
            action = block["action"]
            if action != {"type": "open_system_browser", "value": notification.verify_url}:
                found.append(f"kakaowork button opens {action}")
    terms = [b["term"] for b in body["blocks"] if b["type"] == "description"]
    lines = [f"{term}: x" for term in terms]
    if "button" in kinds:
        lines.append("Verify: (the button)")
    found += _line_labels(lines, notification, per_field=True)
    fallback = body["text"].split("\n")
    return found + _line_labels(fallback[1:], notification)


def _telegram(body: dict[str, Any], notification: Notification) -> list[str]:
    found = []
    if body["chat_id"] != CHAT_ID:
        found.append("telegram chat id changed")
    if set(body) != {"chat_id", "text", "parse_mode", "link_preview_options"}:
        found.append(f"telegram body keys {sorted(body)}")
    shown = "".join(telegram_tags(body["text"]).text)
    if _TELEGRAM_MENTION.search(shown):
        found.append("telegram @username mention")
    lines = shown.split("\n")
    return found + _line_labels(lines[1:], notification)


_CHECKS: Final = {
    ChannelType.SLACK: _slack,
    ChannelType.DISCORD: _discord,
    ChannelType.TEAMS: _teams,
    ChannelType.KAKAOWORK: _kakaowork,
    ChannelType.TELEGRAM: _telegram,
}
