"""KakaoWork specifics: block layout and Block Kit field lengths."""

from __future__ import annotations

from dataclasses import replace

import pytest

from consumer.channel import ChannelType
from consumer.channels import kakaowork
from consumer.notification import Field, Notification
from tests.channels.cases import CASES, VERIFY_URL, audit, channel


def blocks(case: Notification) -> list[dict[str, object]]:
    request = kakaowork.render(case, channel(ChannelType.KAKAOWORK))
    result: list[dict[str, object]] = request.body["blocks"]
    return result


@pytest.mark.parametrize(
    ("case", "header", "style"),
    [
        ("audit_high_failure", "Audit alert", "red"),
        ("audit_with_metadata", "Audit alert", "blue"),
        ("webhook_test", "Webhook test", "blue"),
        ("stepup_session", "Step-up requested", "yellow"),
    ],
    ids=[
        "a failed high audit is a red alert",
        "a successful medium audit is blue",
        "the test message is blue",
        "a step-up request is yellow",
    ],
)
def test_the_header_names_the_kind(case: str, header: str, style: str) -> None:
    first = blocks(CASES[case])[0]
    assert first == {"type": "header", "text": header, "style": style}


def test_a_session_ends_with_a_verify_button_opening_the_browser() -> None:
    result = blocks(CASES["stepup_session"])
    assert result[1] == {
        "type": "text",
        "text": "[Step-up] Re-authentication requested",
        "markdown": False,
    }
    assert result[-1] == {
        "type": "button",
        "text": "Verify",
        "style": "primary",
        "action": {"type": "open_system_browser", "value": VERIFY_URL},
    }
    terms = [b["term"] for b in result if b["type"] == "description"]
    assert terms == ["Actor", "Resource", "Action", "Reason", "Expires"]


def test_long_terms_and_many_fields_stay_within_block_kit() -> None:
    n = audit("x")
    fields = tuple(Field(f"Label number {i}", "v") for i in range(80))
    n = replace(n, fields=fields)
    result = blocks(n)
    assert len(result) == 50
    assert all(len(str(b["term"])) <= 10 for b in result if b["type"] == "description")
    assert result[2]["term"] == "Label num…"
