"""Slack specifics: the text message, no unfurling, and mentions that stay text."""

from __future__ import annotations

from consumer.channel import ChannelType
from consumer.channels import slack
from tests.channels.cases import CASES, channel


def test_the_text_is_the_common_message_escaped() -> None:
    request = slack.render(CASES["audit_high_failure"], channel(ChannelType.SLACK))
    assert request.body == {
        "text": "[Audit] mcp:stepup\nStatus: failure\nSeverity: high\n"
        "Actor: Jane Doe &lt;jane@example.com&gt;\nRole: admin\nTime: 2026-12-04T15:07:12Z",
        "unfurl_links": False,
        "unfurl_media": False,
    }


def test_mention_markup_in_event_data_is_escaped() -> None:
    text = slack.render(CASES["hostile_text"], channel(ChannelType.SLACK)).body["text"]
    assert "&lt;!channel&gt;" in text
    assert "&lt;@U0ADMIN&gt;" in text
    assert "&lt;https://evil.example|x&gt;" in text
    assert "<" not in text
