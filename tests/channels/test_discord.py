"""Discord specifics: mentions never live, markdown escaped, 429 waits read both ways."""

from __future__ import annotations

import pytest

from consumer.channel import ChannelType
from consumer.channels import discord
from consumer.channels.base import Outcome
from tests.channels.cases import CASES, VERIFY_URL, channel


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@everyone", "@\u200beveryone"),
        ("@HERE now", "@\u200bHERE now"),
        ("mail@everyone.example", "mail@\u200beveryone.example"),
        ("@everyoneish", "@everyoneish"),
        ("<@123> <#9> <t:0:R>", "\\<@123\\> \\<#9\\> \\<t:0:R\\>"),
        ("[x](https://e.example)", "[x]\\(https://e.example)"),
        ("||spoiler|| `code`", "\\|\\|spoiler\\|\\| \\`code\\`"),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
    ],
    ids=[
        "@everyone gets a zero-width space",
        "@here in any case too",
        "even inside an address",
        "a longer word is no mention",
        "user, channel and timestamp tokens are escaped",
        "a masked link is broken",
        "spoilers and code are escaped",
        "a heading at the start is escaped",
        "a list item at the start is escaped",
    ],
)
def test_escape(raw: str, expected: str) -> None:
    assert discord.escape(raw) == expected


def test_the_embed_links_its_title_to_the_verify_url() -> None:
    request = discord.render(CASES["stepup_session"], channel(ChannelType.DISCORD))
    (embed,) = request.body["embeds"]
    assert embed["url"] == VERIFY_URL
    assert f"**Verify:** <{VERIFY_URL}>" in embed["description"]
    assert request.body["allowed_mentions"] == {"parse": []}
    assert "content" not in request.body


def test_an_audit_without_link_has_no_embed_url() -> None:
    request = discord.render(CASES["audit_high_failure"], channel(ChannelType.DISCORD))
    (embed,) = request.body["embeds"]
    assert "url" not in embed
    assert embed["color"] == discord.COLOURS["danger"]


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (b'{"retry_after": 1.5, "global": false}', {"Retry-After": "2"}, 1.5),
        (b'{"retry_after": 1500, "global": false}', {"Retry-After": "2"}, 2.0),
        (b'{"retry_after": 0.25, "global": true}', {}, 0.25),
        (b"", {"Retry-After": "3"}, 3.0),
        (b"", {}, None),
    ],
    ids=[
        "seconds in the body win over the rounded header",
        "a milliseconds body (old API version) loses to the header",
        "a global limit without header uses the body",
        "no JSON body: the header",
        "neither: no hint",
    ],
)
def test_a_429_waits_the_smaller_hint(
    body: bytes, headers: dict[str, str], expected: float | None
) -> None:
    verdict = discord.classify(429, headers, body)
    assert verdict.outcome is Outcome.RATE_LIMITED
    assert verdict.retry_after == expected
