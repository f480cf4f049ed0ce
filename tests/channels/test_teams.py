"""Teams specifics: the Adaptive Card shape, the Verify action, the 28 KB budget."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from consumer.channel import ChannelType
from consumer.channels import teams
from consumer.channels.base import OutboundRequest, Outcome
from consumer.notification import Field
from tests.channels.cases import CASES, VERIFY_URL, audit, channel, session


def card(request: OutboundRequest) -> dict[str, Any]:
    (attachment,) = request.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    content: dict[str, Any] = attachment["content"]
    return content


def test_a_session_card_has_facts_and_a_verify_button() -> None:
    request = teams.render(CASES["stepup_session"], channel(ChannelType.TEAMS))
    assert request.body["type"] == "message"
    content = card(request)
    assert content["type"] == "AdaptiveCard"
    assert content["version"] == "1.4"
    assert content["actions"] == [{"type": "Action.OpenUrl", "title": "Verify", "url": VERIFY_URL}]
    title, facts = content["body"]
    assert title["text"] == "[Step-up] Re-authentication requested"
    assert [f["title"] for f in facts["facts"]] == [
        "Actor",
        "Resource",
        "Action",
        "Reason",
        "Expires",
    ]


def test_an_audit_card_has_no_action() -> None:
    content = card(teams.render(CASES["audit_high_failure"], channel(ChannelType.TEAMS)))
    assert "actions" not in content
    assert content["body"][0]["color"] == "Attention"


def test_a_link_teams_cannot_open_stays_a_fact() -> None:
    n = session(verify_url="https://auth.example.com/v?x=a b")
    content = card(teams.render(n, channel(ChannelType.TEAMS)))
    assert "actions" not in content
    facts = content["body"][1]["facts"]
    assert {"title": "Verify", "value": "https://auth.example.com/v?x=a b"} in facts


def test_a_huge_card_is_cut_to_28_kb_by_bytes_not_characters() -> None:
    wide = '\U0001f600漢字"\\' * 5000  # 4-byte, 3-byte and JSON-escaped characters
    n = audit("x" * 20_000, metadata=wide)
    n = replace(n, fields=(*n.fields, Field("Reason", wide)))
    request = teams.render(n, channel(ChannelType.TEAMS))
    size = len(request.body_bytes())
    assert 27_000 < size <= 28_000
    assert orjson.loads(request.body_bytes())["type"] == "message"


def test_a_legacy_connector_error_under_200_is_not_delivered() -> None:
    answer = (
        b"Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP "
        b"error 413 with ContextId tcid=0"
    )
    verdict = teams.classify(200, {}, answer)
    assert verdict.outcome is Outcome.REJECTED
    assert "413" in verdict.detail


def test_event_data_starts_no_list_and_calls_no_date_function() -> None:
    """Fact.Value renders lists and `{{DATE()}}`: event data stays text, shown as typed."""
    n = session(
        actor="- Jane Doe",
        resource="1. prod",
        action="+ drop",
        reason="on {{DATE(2017-02-14T06:08:39Z,SHORT)}}, 2) then 1.5 GB - gone",
    )
    facts = {
        f["title"]: f["value"]
        for f in card(teams.render(n, channel(ChannelType.TEAMS)))["body"][1]["facts"]
    }
    assert facts["Actor"] == "\\- Jane Doe"
    assert facts["Resource"] == "1\\. prod"
    assert facts["Action"] == "\\+ drop"
    assert facts["Reason"] == "on \\{\\{DATE(2017-02-14T06:08:39Z,SHORT)}}, 2) then 1.5 GB - gone"
