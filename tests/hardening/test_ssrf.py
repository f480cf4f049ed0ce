"""SSRF: a channel URL can never make the service call into the private network.

The corpus is every way of naming a forbidden target we know of: private, loopback, link-local,
CGNAT and cloud-metadata addresses, IPv6 loopback and the IPv4-mapped, -compatible, NAT64 and
6to4 forms, decimal, octal, hex and short IPv4 forms, names that resolve to loopback, schemes other
than https, user info, unusual ports, parser tricks. Each target is tried at every door a URL comes
in by, under the secure policy (with `WEBHOOK_EXTRA_HOSTS` listing `localhost` and even the
literals, which must not help):

1. the channels file (what `run`, `send-test` and `channels validate` load);
2. a record of the channels topic;
3. the delivery engine with the real channel module (the URL as the module builds it): the
   outcome is `blocked`, refused by the policy before any request (`policy` targets) or by the
   connect-time guard after DNS (`connect` targets), and nothing reaches the local sink.

Redirects are tried separately: whatever the status and the target, they are never followed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Final, Literal

import orjson
import pytest

from consumer.channel import ChannelConfig, ChannelType
from consumer.channels.base import Outcome
from consumer.delivery import Delivery, DeliveryConfig
from consumer.directory import decode_channel_record, parse_channels
from consumer.errors import ChannelsError
from consumer.message import test_notification
from consumer.urlpolicy import UrlPolicy, check_url
from tests.hardening.credentials import CHAT_ID, MARK
from tests.support.sink import Sink, redirect

SLACK, DISCORD, TEAMS = ChannelType.SLACK, ChannelType.DISCORD, ChannelType.TEAMS
KAKAO, TELEGRAM = ChannelType.KAKAOWORK, ChannelType.TELEGRAM
#: Listing a name or a literal as an extra host must not open the private network.
POLICY: Final = UrlPolicy(extra_hosts=("localhost", "127.0.0.1", "::1", "[::1]", "2130706433"))


@dataclass(frozen=True)
class Target:
    id: str
    url: str  # "{port}" is the local sink's port
    gate: Literal["policy", "connect"] = "policy"
    channel_type: ChannelType = SLACK


TARGETS: Final[list[Target]] = [
    Target("IPv4 loopback", "https://127.0.0.1/hooks"),
    Target("another address of 127/8", "https://127.5.6.7/hooks"),
    Target("the sink itself over https", "https://127.0.0.1:{port}/hooks"),
    Target("the sink itself over http", "http://127.0.0.1:{port}/hooks"),
    Target("private 10/8", "https://10.0.0.1/hooks"),
    Target("private 172.16/12", "https://172.16.5.4/hooks"),
    Target("private 192.168/16", "https://192.168.1.1/hooks"),
    Target("the cloud metadata address", "https://169.254.169.254/latest/meta-data/"),
    Target("another link-local address", "https://169.254.1.1/hooks"),
    Target("Alibaba's metadata address", "https://100.100.100.200/latest/meta-data/"),
    Target("carrier-grade NAT", "https://100.64.0.1/hooks"),
    Target("the unspecified address", "https://0.0.0.0/hooks"),
    Target("a lone zero", "https://0/hooks"),
    Target("the broadcast address", "https://255.255.255.255/hooks"),
    Target("a multicast address", "https://224.0.0.1/hooks"),
    Target("IPv6 loopback", "https://[::1]/hooks"),
    Target("IPv6 loopback on port 443", "https://[::1]:443/hooks"),
    Target("the IPv6 unspecified address", "https://[::]/hooks"),
    Target("IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/hooks"),
    Target("IPv4-mapped loopback in hex", "https://[::ffff:7f00:1]/hooks"),
    Target("IPv4-mapped loopback written out", "https://[0:0:0:0:0:ffff:127.0.0.1]/hooks"),
    Target("IPv4-mapped metadata", "https://[::ffff:a9fe:a9fe]/latest/meta-data/"),
    Target("IPv4-compatible loopback", "https://[::127.0.0.1]/hooks"),
    Target("NAT64 of the metadata address", "https://[64:ff9b::a9fe:a9fe]/hooks"),
    Target("6to4 of loopback", "https://[2002:7f00:1::1]/hooks"),
    Target("IPv6 unique local", "https://[fd00::1]/hooks"),
    Target("IPv6 link-local with a zone", "https://[fe80::1%25eth0]/hooks"),
    Target("AWS IPv6 metadata", "https://[fd00:ec2::254]/latest/meta-data/"),
    Target("loopback as one decimal number", "https://2130706433/hooks"),
    Target("metadata as one decimal number", "https://2852039166/latest/meta-data/"),
    Target("loopback in octal", "https://0177.0.0.1/hooks"),
    Target("loopback in octal, every part", "https://0177.0000.0000.0001/hooks"),
    Target("private 10/8 in octal", "https://012.0.0.1/hooks"),
    Target("loopback as one hex number", "https://0x7f000001/hooks"),
    Target("loopback in hex, dotted", "https://0x7f.0.0.1/hooks"),
    Target("loopback in two parts", "https://127.1/hooks"),
    Target("loopback with zero-padded parts", "https://127.000.000.001/hooks"),
    Target("loopback with a trailing dot", "https://127.0.0.1./hooks"),
    Target("loopback with ideographic full stops", "https://127\u30020\u30020\u30021/hooks"),
    Target("loopback with circled digits", "https://\u2460\u2461\u2466.0.0.1/hooks"),
    Target("a percent-encoded loopback", "https://%31%32%37.0.0.1/hooks"),
    Target("a cloud metadata name", "https://metadata.google.internal/computeMetadata/v1/"),
    Target("localhost by name", "https://localhost/hooks", "connect"),
    Target("LocalHost in mixed case", "https://LocalHost/hooks", "connect"),
    Target("localhost on the explicit port 443", "https://localhost:443/hooks", "connect"),
    Target("localhost on the sink's port", "https://localhost:{port}/hooks"),
    Target("plain http on the official host", "http://hooks.slack.com/services/T0/B0/x"),
    Target("ftp", "ftp://hooks.slack.com/services/x"),
    Target("a file URL", "file:///etc/passwd"),
    Target("gopher to a local Redis", "gopher://127.0.0.1:6379/_FLUSHALL"),
    Target("user and password before the host", "https://user:pass@hooks.slack.com/services/x"),
    Target("the official host as user info", "https://hooks.slack.com@169.254.169.254/"),
    Target("the official host and port as user info", "https://hooks.slack.com:443@evil.example/"),
    Target("an empty user info", "https://@hooks.slack.com/services/x"),
    Target("port 8443", "https://hooks.slack.com:8443/services/x"),
    Target("port 80 over https", "https://hooks.slack.com:80/services/x"),
    Target("port 22", "https://hooks.slack.com:22/services/x"),
    Target("port 0", "https://hooks.slack.com:0/services/x"),
    Target("a backslash before the real host", "https://hooks.slack.com\\@evil.example/"),
    Target("a newline in the host", "https://hooks.slack.com\n.evil.example/"),
    Target("a tab in the host", "https://hooks.slack.com\t.evil.example/"),
    Target("a fragment before the official host", "https://evil.example#@hooks.slack.com/"),
    Target("an encoded dot after the official host", "https://hooks.slack.com%2eevil.example/"),
    Target("a Cyrillic lookalike of the host", "https://hooks.sl\u0430ck.com/services/x"),
    Target("the official host as a prefix", "https://hooks.slack.com.evil.example/x"),
    Target(
        "discord's host as a prefix",
        "https://discord.com.evil.example/api/webhooks/1/t",
        channel_type=DISCORD,
    ),
    Target(
        "a teams wildcard as a prefix",
        "https://x.logic.azure.com.evil.example/workflows/1",
        channel_type=TEAMS,
    ),
    Target(
        "the bare teams wildcard domain", "https://logic.azure.com/workflows/1", channel_type=TEAMS
    ),
    Target(
        "kakaowork's host as user info",
        "https://kakaowork.com@evil.example/bots/hook/k",
        channel_type=KAKAO,
    ),
    Target(
        "telegram's host as a prefix",
        "https://api.telegram.org.evil.example/bot1:t",
        channel_type=TELEGRAM,
    ),
    Target(
        "telegram over http", "http://api.telegram.org/bot1:t/sendMessage", channel_type=TELEGRAM
    ),
    Target(
        "telegram on the metadata address", "https://169.254.169.254/bot1:t", channel_type=TELEGRAM
    ),
]


def channel_of(target: Target, port: int) -> dict[str, object]:
    url = target.url.replace("{port}", str(port)) + (f"/{MARK}" if "://" in target.url else "")
    raw: dict[str, object] = {
        "id": "ssrf",
        "project_id": "p",
        "type": target.channel_type.value,
        "url": url,
    }
    if target.channel_type is TELEGRAM:
        raw["chat_id"] = CHAT_ID
    return raw


def by_id(target: Target) -> str:
    return target.id


@pytest.mark.parametrize("target", TARGETS, ids=by_id)
def test_the_channels_file_refuses_it_or_leaves_it_to_the_connect_guard(target: Target) -> None:
    document = orjson.dumps({"channels": [channel_of(target, 4443)]})
    if target.gate == "connect":
        (channel,) = parse_channels(document, fmt="json", policy=POLICY)
        assert check_url(channel.url, target.channel_type, POLICY) is None
        return
    with pytest.raises(ChannelsError) as caught:
        parse_channels(document, fmt="json", policy=POLICY)
    assert any("channels[0] id='ssrf': url:" in p for p in caught.value.problems)
    assert MARK not in str(caught.value)


@pytest.mark.parametrize("target", [t for t in TARGETS if t.gate == "policy"], ids=by_id)
def test_a_channels_topic_record_refuses_it(target: Target) -> None:
    value = orjson.dumps(channel_of(target, 4443))
    with pytest.raises(ChannelsError) as caught:
        decode_channel_record(b"ssrf", value, POLICY)
    assert MARK not in str(caught.value)


async def test_delivery_blocks_every_target_and_nothing_reaches_the_sink() -> None:
    async with Sink() as sink:
        channels = []
        for n, target in enumerate(TARGETS):
            raw = channel_of(target, sink.port) | {"id": f"t{n}"}
            channels.append(ChannelConfig.model_validate(raw))
        config = DeliveryConfig(timeout_s=3.0, pacing=False, policy=POLICY)
        async with Delivery(config) as delivery:
            results = await delivery.deliver(test_notification("p"), channels)
        assert sink.received == []
    wrong = {}
    for target, result in zip(TARGETS, results, strict=True):
        expected = (Outcome.BLOCKED, 1 if target.gate == "connect" else 0)
        if (result.outcome, result.attempts) != expected:
            wrong[target.id] = (result.outcome.value, result.attempts, result.detail)
        elif target.gate == "connect":
            assert result.detail == "the target address is in a forbidden range"
    assert wrong == {}


REDIRECTS: Final = [301, 302, 303, 307, 308]


@pytest.mark.parametrize(
    ("channel_type", "code"),
    list(itertools.product(ChannelType, REDIRECTS)),
    ids=lambda v: v.value if isinstance(v, ChannelType) else f"HTTP {v}",
)
async def test_a_redirect_is_never_followed(channel_type: ChannelType, code: int) -> None:
    async with Sink() as sink:
        elsewhere = sink.url("/internal/admin")
        url = sink.script(f"/hook/bot1:{MARK}/sendMessage", redirect(elsewhere, code))
        channel = ChannelConfig(
            id="r",
            project_id="p",
            type=channel_type,
            url=url,
            chat_id=CHAT_ID if channel_type is TELEGRAM else None,
        )
        # Insecure targets only so that the sink on 127.0.0.1 can answer at all.
        config = DeliveryConfig(timeout_s=3.0, pacing=False, policy=UrlPolicy(allow_insecure=True))
        async with Delivery(config) as delivery:
            (result,) = await delivery.deliver(test_notification("p"), [channel])
        assert sink.count("/internal/admin") == 0
        assert len(sink.received) == 1
    assert (result.outcome, result.status, result.detail) == (
        Outcome.BLOCKED,
        code,
        "redirect not followed",
    )
