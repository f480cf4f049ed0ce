"""Delivery with the five real channel modules (the default registry) against the scripted sink."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import structlog

from consumer.channel import ChannelType
from consumer.channels import CHANNELS
from consumer.channels.base import Outcome
from consumer.delivery import Delivery, DeliveryConfig
from consumer.urlpolicy import UrlPolicy
from tests.support.fake_channel import channel, sample_notification
from tests.support.sink import Behaviour, Sink, ok, retry_after, status

INSECURE = UrlPolicy(allow_insecure=True)
NOTE = sample_notification()
CHAT = "-1001234567890"

#: How each provider says "accepted" (ARCHITECTURE.md §5).
ACCEPTED: dict[ChannelType, Behaviour] = {
    ChannelType.SLACK: ok(200, b"ok"),
    ChannelType.DISCORD: ok(204, b""),
    ChannelType.TEAMS: ok(202, b""),
    ChannelType.KAKAOWORK: ok(200, b'{"success": true}'),
    ChannelType.TELEGRAM: ok(200, b'{"ok": true, "result": {"message_id": 1}}'),
}


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with Sink() as s:
        yield s


def test_every_channel_type_is_registered() -> None:
    assert set(CHANNELS) == set(ChannelType)


async def test_fan_out_to_all_five_real_channel_types(sink: Sink) -> None:
    channels = [
        channel(t.value, sink.script(f"/{t.value}", ACCEPTED[t]), t, chat_id=CHAT)
        for t in ChannelType
    ]
    async with Delivery(DeliveryConfig(timeout_s=2.0, policy=INSECURE)) as delivery:
        results = await delivery.deliver(NOTE, channels)

    assert {r.channel_type: r.outcome for r in results} == dict.fromkeys(
        ChannelType, Outcome.DELIVERED
    )
    (slack,) = sink.bodies("/slack")
    assert "webhook:test" in slack["text"]
    (discord,) = sink.bodies("/discord")
    assert discord["allowed_mentions"] == {"parse": []}
    (teams,) = sink.bodies("/teams")
    assert teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    (kakaowork,) = sink.bodies("/kakaowork")
    assert "webhook:test" in kakaowork["text"]
    (telegram,) = sink.bodies("/telegram")
    assert telegram["chat_id"] == CHAT
    assert telegram["parse_mode"] == "HTML"
    for path in ("/slack", "/discord", "/teams", "/kakaowork", "/telegram"):
        (received,) = sink.requests(path)
        assert received.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("channel_type", "limited"),
    [
        pytest.param(ChannelType.SLACK, retry_after(0.2), id="slack says when in Retry-After"),
        pytest.param(
            ChannelType.DISCORD, retry_after(0.2, json=True), id="discord says when in JSON"
        ),
        pytest.param(
            ChannelType.TELEGRAM,
            retry_after(0.2, json=True),
            id="telegram says when in its parameters",
        ),
    ],
)
async def test_a_real_providers_429_is_retried_once_after_its_hint(
    sink: Sink, channel_type: ChannelType, limited: Behaviour
) -> None:
    url = sink.script("/hook", limited, ACCEPTED[channel_type])
    config = DeliveryConfig(timeout_s=2.0, pacing=False, policy=INSECURE)
    async with Delivery(config) as delivery:
        (result,) = await delivery.deliver(NOTE, [channel("c", url, channel_type, chat_id=CHAT)])
    assert result.outcome is Outcome.DELIVERED
    assert result.attempts == 2
    first, second = sink.requests("/hook")
    assert second.at - first.at >= 0.2


@pytest.mark.parametrize("channel_type", list(ChannelType), ids=lambda t: f"{t.value} 400")
async def test_a_real_providers_400_is_rejected_without_retry(
    sink: Sink, channel_type: ChannelType
) -> None:
    url = sink.script("/hook", status(400, b'{"ok": false, "error_code": 400}'))
    config = DeliveryConfig(timeout_s=2.0, pacing=False, policy=INSECURE)
    async with Delivery(config) as delivery:
        (result,) = await delivery.deliver(NOTE, [channel("c", url, channel_type, chat_id=CHAT)])
    assert result.outcome is Outcome.REJECTED
    assert result.attempts == 1
    assert sink.count("/hook") == 1


async def test_no_secret_reaches_the_logs_with_real_channels(sink: Sink) -> None:
    secret = "SECRETPART"
    chat = "-100SECRETCHAT77"
    answers: dict[ChannelType, Behaviour] = {
        ChannelType.SLACK: status(400, b"invalid_payload"),
        ChannelType.DISCORD: retry_after(9, json=True),
        ChannelType.TEAMS: status(500),
        ChannelType.KAKAOWORK: ACCEPTED[ChannelType.KAKAOWORK],
        ChannelType.TELEGRAM: status(
            400, b'{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}'
        ),
    }
    channels = [
        channel(t.value, sink.script(f"/{t.value}/{secret}", answers[t]), t, chat_id=chat)
        for t in ChannelType
    ]
    with structlog.testing.capture_logs() as logs:
        async with Delivery(DeliveryConfig(timeout_s=2.0, policy=INSECURE)) as delivery:
            results = await delivery.deliver(NOTE, channels, topic="audit-log", offset=1)
    assert len([e for e in logs if e["event"] == "delivery"]) >= len(channels)
    text = repr(logs) + repr(results)
    assert secret not in text
    assert "SECRETCHAT" not in text
