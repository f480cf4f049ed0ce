"""A test-only channel module, for delivery tests that must not depend on a real renderer.

It satisfies `consumer.channels.base.Channel`: posts `{"text": notification.text()}` to the
channel URL (plus `chat_id` when the channel has one) and reads answers with `by_status`, taking
a Discord/Telegram-style JSON `retry_after` into account. It remembers the size of every answer
body it was given, so tests can check the body cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from consumer.channel import ChannelConfig, ChannelType
from consumer.channels.base import OutboundRequest, Outcome, Verdict, by_status
from consumer.notification import Field, Notification


class FakeChannel:
    def __init__(
        self, channel_type: ChannelType = ChannelType.SLACK, rate_per_s: float = 1.0, burst: int = 3
    ) -> None:
        self.TYPE = channel_type
        self.RATE_PER_S = rate_per_s
        self.BURST = burst
        self.body_sizes: list[int] = []

    def render(self, notification: Notification, channel: ChannelConfig) -> OutboundRequest:
        body: dict[str, Any] = {"text": notification.text()}
        if channel.chat_id is not None:
            body["chat_id"] = channel.chat_id
        return OutboundRequest(url=channel.url, body=body)

    def classify(self, status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
        self.body_sizes.append(len(body))
        verdict = by_status(status, headers)
        if verdict.outcome is Outcome.RATE_LIMITED and verdict.retry_after is None:
            try:
                data = orjson.loads(body)
            except orjson.JSONDecodeError:
                return verdict
            seconds = data.get("retry_after") if isinstance(data, dict) else None
            if isinstance(seconds, int | float):
                return Verdict(Outcome.RATE_LIMITED, float(seconds), "http 429")
        return verdict


def fake_registry(rate_per_s: float = 1.0, burst: int = 3) -> dict[ChannelType, FakeChannel]:
    """One FakeChannel per channel type."""
    return {t: FakeChannel(t, rate_per_s, burst) for t in ChannelType}


def sample_notification(title: str = "[Audit] webhook:test") -> Notification:
    return Notification(
        kind="test",
        project_id="proj_1",
        event_id="evt_1",
        title=title,
        fields=(Field("Status", "success"), Field("Severity", "high")),
        severity="high",
        success=True,
    )


def channel(
    channel_id: str,
    url: str,
    channel_type: ChannelType = ChannelType.SLACK,
    chat_id: str | None = None,
    rate_per_s: float | None = None,
) -> ChannelConfig:
    if channel_type is ChannelType.TELEGRAM and chat_id is None:
        chat_id = "-1001234567890"
    return ChannelConfig(
        id=channel_id,
        project_id="proj_1",
        type=channel_type,
        url=url,
        chat_id=chat_id,
        rate_per_s=rate_per_s,
    )
