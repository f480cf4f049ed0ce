"""Recognisable secrets for the suite's channels, and the scan that proves none of them leaked.

Every webhook URL the hardening runs configure carries a path token (or a Teams `sig=`) with
`MARK` in it, the Telegram channels share one bot token and one chat id, and the service gets a
SASL password it never needs. Nothing else the service could print contains `MARK`, so finding it
in a log line, a metrics label, an error or a command's output means a secret leaked.
"""

from __future__ import annotations

from typing import Final

from consumer.channel import ChannelConfig, ChannelType

#: In every secret below, and in nothing else the service is given.
MARK: Final = "S3CR3T"
BOT_TOKEN: Final = f"777000:{MARK}botTokenAAEhBOweik6ad"
CHAT_ID: Final = "-100775533991"
#: What logs may show of the chat id (`consumer.redact.redact_chat_id`).
CHAT_ID_REDACTED: Final = "***91"
SASL_PASSWORD: Final = f"{MARK}-sasl-password-5kq"


def secret_url(base: str, channel_type: ChannelType, case: str) -> str:
    """A channel URL on the local sink under `/{case}/{type}/`, shaped like the provider's."""
    root = f"{base}/{case}/{channel_type.value}"
    if channel_type is ChannelType.SLACK:
        return f"{root}/services/T0{MARK}A/B0{MARK}B/{MARK}slackPath{case}"
    if channel_type is ChannelType.DISCORD:
        return f"{root}/api/webhooks/112233445566778899/{MARK}discordToken{case}"
    if channel_type is ChannelType.TEAMS:
        return (
            f"{root}/workflows/0a1b2c/triggers/manual/paths/invoke?api-version=2016-06-01"
            f"&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={MARK}teamsSig{case}"
        )
    if channel_type is ChannelType.KAKAOWORK:
        return f"{root}/bots/hook/{MARK}kakaoKey{case}"
    return f"{root}/bot{BOT_TOKEN}/sendMessage"


def case_channels(
    base: str, case: str, types: tuple[ChannelType, ...] = tuple(ChannelType)
) -> list[ChannelConfig]:
    """One active channel of each type for project `case`, on the sink under `/{case}/`."""
    return [
        ChannelConfig(
            id=f"{case}-{t.value}",
            project_id=case,
            type=t,
            url=secret_url(base, t, case),
            chat_id=CHAT_ID if t is ChannelType.TELEGRAM else None,
        )
        for t in types
    ]


def leaks(text: str) -> list[str]:
    """What of the secrets `text` shows: [] when it shows none of them in full."""
    found = []
    if MARK in text:
        at = text.index(MARK)
        found.append(f"{MARK} (…{text[max(at - 60, 0) : at + 40]!r}…)")
    if BOT_TOKEN.split(":", 1)[0] + ":" in text:
        found.append("the bot id of the token")
    digits = CHAT_ID.lstrip("-")
    if digits[:-2] in text:  # the chat id, or all of it but the two characters redaction keeps
        found.append("the chat id")
    return found
