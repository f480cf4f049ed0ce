"""`webhook-consumer explain`: end to end through the CLI, and its payload assembly."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from consumer.channel import ChannelConfig, ChannelType
from consumer.channels import CHANNELS
from consumer.channels.base import OutboundRequest, Verdict, by_status
from consumer.commands import explain
from consumer.message import build_notification
from consumer.notification import Notification
from consumer.urlpolicy import UrlPolicy, check_url
from tests.support.events import event_bytes, event_path, session


def run_explain(
    topic: str, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "consumer", "explain", "--topic", topic, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_a_firing_session_event_is_explained_with_its_text() -> None:
    done = run_explain("hosted-auth-sessions", str(event_path("guard_stepup_session_created")))
    assert done.returncode == 0, done.stderr
    answer = orjson.loads(done.stdout)
    assert answer["fires"] is True
    assert answer["kind"] == "session"
    assert (
        answer["reason"] == "session created pending with a verify URL (mode stepup, source guard)"
    )
    assert answer["text"] == build_notification(session("guard_stepup_session_created")).text()
    assert set(answer["payloads"]) == {t.value for t in CHANNELS}
    assert done.stderr == b""


def test_a_firing_audit_event_is_read_from_stdin() -> None:
    done = run_explain("audit-log", "-", stdin=event_bytes("mcp_stepup_failure"))
    assert done.returncode == 0, done.stderr
    answer = orjson.loads(done.stdout)
    assert (answer["fires"], answer["kind"], answer["reason"]) == (True, "audit", "severity high")
    assert answer["text"].startswith("[Audit] mcp:stepup\nStatus: failure\nSeverity: high\n")


def test_a_non_firing_event_says_why_and_has_no_text_or_payloads() -> None:
    done = run_explain("audit-log", str(event_path("guard_stepup_gate_pending")))
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout) == {
        "fires": False,
        "kind": None,
        "reason": "guard_gate_decision at medium never notifies",
        "text": None,
        "payloads": {},
    }


def test_an_invalid_event_is_one_line_naming_the_field_and_exit_2() -> None:
    done = run_explain("audit-log", str(event_path("invalid_severity")))
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode() == (
        "webhook-consumer explain: audit-log: field 'severity': "
        "Input should be 'low', 'medium' or 'high'\n"
    )


def test_an_event_of_the_other_topic_is_invalid_for_this_one() -> None:
    done = run_explain("hosted-auth-sessions", str(event_path("mcp_stepup_success")))
    assert done.returncode == 2
    assert done.stderr.count(b"\n") == 1
    assert b"field 'session_id': Field required" in done.stderr
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda tmp: str(tmp / "missing.json"), b"cannot read"),
        (lambda tmp: str(tmp), b"cannot read"),
        (lambda tmp: _write(tmp / "binary.json", b"\x00\xff\xfe"), b"value: not valid UTF-8"),
        (lambda tmp: _write(tmp / "empty.json", b""), b"value: empty value"),
        (lambda tmp: _write(tmp / "big.json", b" " * (2 * 1024 * 1024)), b"byte limit"),
    ],
    ids=[
        "a missing file",
        "a directory",
        "a binary file",
        "an empty file",
        "a file over the record size cap",
    ],
)
def test_unreadable_input_is_one_line_and_exit_2(
    tmp_path: Path, setup: Any, expected: bytes
) -> None:
    done = run_explain("audit-log", setup(tmp_path))
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.startswith(b"webhook-consumer explain: ")
    assert expected in done.stderr
    assert done.stderr.count(b"\n") == 1


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


# --- payload assembly, with a stand-in renderer (the real ones are tested in tests/channels) ---


class EchoTelegram:
    """A minimal channel module: posts the chat id and the text."""

    TYPE = ChannelType.TELEGRAM
    RATE_PER_S = 1.0
    BURST = 1

    def render(self, notification: Notification, channel: ChannelConfig) -> OutboundRequest:
        return OutboundRequest(
            channel.url, {"chat_id": channel.chat_id, "text": notification.text()}
        )

    def classify(self, status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
        return by_status(status, headers)


def test_payloads_hold_the_json_body_of_every_registered_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(explain, "CHANNELS", {ChannelType.TELEGRAM: EchoTelegram()})
    notification = build_notification(session("signin_session"))
    assert explain.example_payloads(notification) == {
        "telegram": {"chat_id": "-100000000000", "text": notification.text()}
    }


def test_the_registered_renderers_all_answer_for_the_examples() -> None:
    notification = build_notification(session("guard_stepup_session_created"))
    payloads = explain.example_payloads(notification)
    assert set(payloads) == {t.value for t in CHANNELS}
    for channel_type, module in CHANNELS.items():
        body = module.render(notification, explain.example_channel(channel_type)).body
        assert payloads[channel_type.value] == orjson.loads(orjson.dumps(body))


@pytest.mark.parametrize("channel_type", list(ChannelType), ids=lambda t: f"the {t.value} example")
def test_example_channels_are_valid_and_on_official_hosts(channel_type: ChannelType) -> None:
    channel = explain.example_channel(channel_type)
    assert check_url(channel.url, channel_type, UrlPolicy()) is None
