"""Telegram specifics: the sendMessage URL from any form of the bot URL, the chat id, HTML."""

from __future__ import annotations

import pytest

from consumer.channel import ChannelType
from consumer.channels import telegram
from consumer.channels.base import Outcome
from tests.channels.cases import CASES, CHAT_ID, channel, session

BOT = "https://api.telegram.org/bot123456:ABC-def_GHI"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{BOT}/sendMessage", f"{BOT}/sendMessage"),
        (BOT, f"{BOT}/sendMessage"),
        (f"{BOT}/", f"{BOT}/sendMessage"),
        (f"{BOT}/getMe", f"{BOT}/sendMessage"),
        (f"{BOT}/sendMessage/", f"{BOT}/sendMessage"),
        (f"{BOT}/sendMessage#frag", f"{BOT}/sendMessage"),
        (
            "http://127.0.0.1:8080/telegram/bot1:X",
            "http://127.0.0.1:8080/telegram/bot1:X/sendMessage",
        ),
        ("http://127.0.0.1:8080/telegram", "http://127.0.0.1:8080/telegram"),
    ],
    ids=[
        "the full sendMessage URL is kept",
        "the bot base URL gets /sendMessage",
        "the bot base URL with a slash gets sendMessage",
        "another method is replaced by sendMessage",
        "a trailing slash after sendMessage is dropped",
        "a fragment is dropped",
        "a bot URL under a path prefix (a local sink) gets /sendMessage",
        "a URL without a bot segment is used as it is",
    ],
)
def test_the_channel_url_becomes_the_send_message_endpoint(url: str, expected: str) -> None:
    assert telegram.send_message_url(url) == expected
    request = telegram.render(CASES["stepup_session"], channel(ChannelType.TELEGRAM, url))
    assert request.url == expected


def test_the_body_is_an_html_send_message_without_preview() -> None:
    request = telegram.render(CASES["stepup_session"], channel(ChannelType.TELEGRAM))
    body = dict(request.body)
    assert body["chat_id"] == CHAT_ID
    assert body["parse_mode"] == "HTML"
    assert body["link_preview_options"] == {"is_disabled": True}
    assert body["text"].startswith("<b>[Step-up] Re-authentication requested</b>\n")
    assert (
        "Verify: https://auth.transcodes.example/verify/tc_stepup_01HZX?state=a1b2&amp;lang=en"
        in body["text"]
    )


def test_an_at_username_in_event_data_mentions_no_one() -> None:
    """Telegram makes `@name` a mention that notifies the user: a zero-width space breaks it."""
    note = session(
        actor="@ceo_account <ceo@example.com>",
        reason="ping @oncall_admin,@sec_team (x@y.io)",
        verify_url="https://auth.transcodes.example/v/@team?u=1",
    )
    text = telegram.render(note, channel(ChannelType.TELEGRAM)).body["text"]
    assert "Actor: @\u200bceo_account &lt;ceo@example.com&gt;" in text
    assert "Reason: ping @\u200boncall_admin,@\u200bsec_team (x@y.io)" in text
    assert "Verify: https://auth.transcodes.example/v/@team?u=1" in text  # the link stays whole


def test_a_supergroup_migration_is_rejected_without_the_new_chat_id() -> None:
    answer = (
        b'{"ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded'
        b' to a supergroup chat", "parameters": {"migrate_to_chat_id": -1001999888777}}'
    )
    verdict = telegram.classify(400, {}, answer)
    assert verdict.outcome is Outcome.REJECTED
    assert "supergroup" in verdict.detail
    assert "1001999888777" not in verdict.detail


def test_a_429_without_parameters_falls_back_to_the_header() -> None:
    answer = b'{"ok": false, "error_code": 429, "description": "Too Many Requests"}'
    verdict = telegram.classify(429, {"retry-after": "4"}, answer)
    assert verdict.outcome is Outcome.RATE_LIMITED
    assert verdict.retry_after == 4.0
