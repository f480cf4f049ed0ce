"""Notifications and channels the channel tests share, built by hand (not by consumer.message).

The Notifications mirror what the message builder makes for the spec's scenarios (ARCHITECTURE.md
§3), plus the edge cases a renderer must survive: huge metadata and hostile text.
"""

from __future__ import annotations

from typing import Final

from consumer.channel import ChannelConfig, ChannelType
from consumer.notification import Field, Notification

VERIFY_URL: Final = "https://auth.transcodes.example/verify/tc_stepup_01HZX?state=a1b2&lang=en"
TIME: Final = "2026-12-04T15:07:12Z"
EXPIRES: Final = "2026-12-04T15:17:12Z"
CHAT_ID: Final = "-1001234567890"

#: Channel URLs on each type's official host. The golden files show them, so they are fake.
GOLDEN_URLS: Final[dict[ChannelType, str]] = {
    ChannelType.SLACK: "https://hooks.slack.com/services/T0000GOLD/B0000GOLD/goldenSlackPath",
    ChannelType.DISCORD: "https://discord.com/api/webhooks/100000000000000000/goldenDiscordToken",
    ChannelType.TEAMS: "https://example.webhook.office.com/webhookb2/golden/IncomingWebhook/x",
    ChannelType.KAKAOWORK: "https://kakaowork.com/bots/hook/goldenkakaokey",
    ChannelType.TELEGRAM: "https://api.telegram.org/bot100000:goldenTelegramToken",
}

#: Real-looking secret parts, each containing "SECRET" and digits (as real ones do).
SECRET_URLS: Final[dict[ChannelType, str]] = {
    ChannelType.SLACK: "https://hooks.slack.com/services/T0SECRET1/B0SECRET2/slackSECRET3xyz",
    ChannelType.DISCORD: "https://discord.com/api/webhooks/123456789012345678/discordSECRET42tok",
    ChannelType.TEAMS: (
        "https://prod-00.westeurope.logic.azure.com:443/workflows/0a1b2c/triggers/manual/paths/"
        "invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=teamsSECRET99sig"
    ),
    ChannelType.KAKAOWORK: "https://kakaowork.com/bots/hook/kakaoSECRET0key77",
    ChannelType.TELEGRAM: "https://api.telegram.org/bot123456:telegramSECRET88token/sendMessage",
}
SECRET_CHAT_ID: Final = "-1009876543210"


def channel(channel_type: ChannelType, url: str | None = None, **extra: object) -> ChannelConfig:
    """A channel of `channel_type` (Telegram ones get a chat id)."""
    data: dict[str, object] = {
        "id": f"test-{channel_type.value}",
        "project_id": "proj_123",
        "type": channel_type,
        "url": url or GOLDEN_URLS[channel_type],
    }
    if channel_type is ChannelType.TELEGRAM:
        data["chat_id"] = CHAT_ID
    data.update(extra)
    return ChannelConfig.model_validate(data)


def audit(
    tag: str,
    *,
    success: bool = True,
    severity: str = "high",
    metadata: str | None = None,
    kind: str = "audit",
) -> Notification:
    fields = [
        Field("Status", "success" if success else "failure"),
        Field("Severity", severity),
        Field("Actor", "Jane Doe <jane@example.com>"),
        Field("Role", "admin"),
        Field("Time", TIME),
    ]
    if metadata is not None:
        fields.append(Field("Metadata", metadata))
    return Notification(
        kind=kind,  # type: ignore[arg-type]  # the cases pass only valid kinds
        project_id="proj_123",
        event_id="audit_01",
        title=f"[Audit] {tag}",
        fields=tuple(fields),
        severity=severity,  # type: ignore[arg-type]  # same
        success=success,
    )


def session(
    *,
    actor: str = "Jane Doe <jane@example.com>",
    resource: str | None = None,
    action: str | None = None,
    reason: str | None = None,
    verify_url: str = VERIFY_URL,
    expires: str | None = EXPIRES,
) -> Notification:
    fields = [Field("Actor", actor)]
    joined = False
    for label, value in (("Resource", resource), ("Action", action), ("Reason", reason)):
        if value:
            fields.append(Field(label, value, same_line=joined))
            joined = True
    fields.append(Field("Verify", verify_url))
    if expires:
        fields.append(Field("Expires", expires))
    return Notification(
        kind="session",
        project_id="proj_123",
        event_id="tc_stepup_01HZX",
        title="[Step-up] Re-authentication requested",
        fields=tuple(fields),
        verify_url=verify_url,
    )


HOSTILE_TEXT: Final = (
    "<!channel> <!here> <@U024BE7LH> @everyone @here <b>bold</b> </a> &amp; "
    "**md** _it_ ~~s~~ `code` ||spoiler|| [click](https://evil.example) <https://evil.example|x> "
    "zero\u200bwidth \u202eevil\u202c <t:0:R>"
)

#: Every golden case: `tests/channels/golden/<channel>/<case>.json`.
CASES: Final[dict[str, Notification]] = {
    "audit_high_failure": audit("mcp:stepup", success=False),
    "audit_with_metadata": audit(
        "billing:refund",
        severity="medium",
        metadata="decision=deny-stepup-pending, resource=db/prod, action=drop, ruleId=r-12, "
        "fp=9f2c41",
    ),
    "webhook_test": audit("webhook:test", kind="test"),
    "stepup_session": session(
        resource="db/prod", action="drop_table", reason="risky shell command (guard)"
    ),
    "signin_session_minimal": session(actor="unknown", expires=None),
    "huge_metadata": audit(
        "billing:export",
        severity="medium",
        metadata=", ".join(f"key{i}={'v' * 120}" for i in range(400)),
    ),
    "hostile_text": Notification(
        kind="session",
        project_id="proj_123",
        event_id="tc_stepup_hostile",
        title="[Step-up] Re-authentication requested <!channel> @everyone",
        fields=(
            Field("Actor", "<@U0ADMIN> @here <b>root</b>"),
            Field("Resource", HOSTILE_TEXT),
            Field("Action", "rm -rf / # *", same_line=True),
            Field("Verify", VERIFY_URL),
            Field("Expires", EXPIRES),
        ),
        verify_url=VERIFY_URL,
    ),
}
