"""The URL policy (ARCHITECTURE.md §4): which webhook targets may be called, and which addresses."""

from __future__ import annotations

import ipaddress

import pytest

from consumer.channel import ChannelType
from consumer.urlpolicy import (
    OFFICIAL_HOSTS,
    UrlPolicy,
    check_url,
    forbidden_address,
    host_matches,
    ip_literal,
)

STRICT = UrlPolicy()
SLACK = ChannelType.SLACK
TEAMS = ChannelType.TEAMS


@pytest.mark.parametrize(
    ("url", "channel_type"),
    [
        pytest.param("https://hooks.slack.com/services/T0/B0/XXXX", SLACK, id="a slack webhook"),
        pytest.param("https://HOOKS.SLACK.COM/services/T0/B0/X", SLACK, id="an upper-case host"),
        pytest.param("https://hooks.slack.com./services/T0", SLACK, id="a fully qualified host"),
        pytest.param("https://hooks.slack.com:443/services/T0", SLACK, id="the explicit 443 port"),
        pytest.param("https://discord.com/api/webhooks/1/tok", ChannelType.DISCORD, id="discord"),
        pytest.param(
            "https://discordapp.com/api/webhooks/1/t", ChannelType.DISCORD, id="old discord"
        ),
        pytest.param("https://x.webhook.office.com/webhookb2/a", TEAMS, id="a teams subdomain"),
        pytest.param(
            "https://prod-1.westus.logic.azure.com/workflows/a?sig=a%2Bb",
            TEAMS,
            id="a teams workflow with an encoded signature",
        ),
        pytest.param("https://kakaowork.com/bots/hook/abc", ChannelType.KAKAOWORK, id="kakaowork"),
        pytest.param("https://api.telegram.org/bot1:x/sendMessage", ChannelType.TELEGRAM, id="tg"),
    ],
)
def test_official_https_webhooks_are_allowed(url: str, channel_type: ChannelType) -> None:
    assert check_url(url, channel_type, STRICT) is None


@pytest.mark.parametrize(
    ("url", "reason_part"),
    [
        pytest.param("http://hooks.slack.com/services/T0", "https", id="plain http is refused"),
        pytest.param("ftp://hooks.slack.com/x", "http(s)", id="another scheme is refused"),
        pytest.param("https:///services/T0", "http(s)", id="a URL without a host is refused"),
        pytest.param("https://[::1/x", "valid", id="a malformed URL is refused"),
        pytest.param("https://u:p@hooks.slack.com/x", "user info", id="user and password"),
        pytest.param("https://@hooks.slack.com/x", "user info", id="an empty user info"),
        pytest.param("https://evil.com@hooks.slack.com/x", "user info", id="a host-like user"),
        pytest.param("https://hooks.slack.com:8443/x", "port", id="an unusual port is refused"),
        pytest.param("https://hooks.slack.com:80/x", "port", id="port 80 over https is refused"),
        pytest.param("https://evil.com/services/T0", "official", id="another host is refused"),
        pytest.param("https://hooks.slack.com.evil.com/x", "official", id="a suffix trick"),
        pytest.param("https://evilhooks.slack.com/x", "official", id="a prefix trick"),
        pytest.param("https://slack.com/x", "official", id="the parent domain"),
        pytest.param("https://discord.com/x", "official", id="another type's official host"),
        pytest.param("https://evil.com#@hooks.slack.com", "official", id="a fragment trick"),
        pytest.param("https://hooks.slack.com%2eevil.com/", "official", id="an encoded dot"),
        pytest.param("https://hooks.slack.com\\@evil.com/", "backslash", id="a backslash trick"),
        pytest.param("https://hooks.slack.com\t.evil.com/", "control", id="a tab in the host"),
        pytest.param("https://hooks.slack.com/a b", "whitespace", id="a space in the path"),
    ],
)
def test_urls_off_policy_are_refused_with_a_reason(url: str, reason_part: str) -> None:
    reason = check_url(url, SLACK, STRICT)
    assert reason is not None
    assert reason_part in reason


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://127.0.0.1/x", id="loopback"),
        pytest.param("https://10.0.0.1/x", id="private 10/8"),
        pytest.param("https://172.16.5.4/x", id="private 172.16/12"),
        pytest.param("https://192.168.1.1/x", id="private 192.168/16"),
        pytest.param("https://169.254.169.254/latest/meta-data", id="cloud metadata"),
        pytest.param("https://169.254.1.1/x", id="link-local"),
        pytest.param("https://100.64.0.1/x", id="carrier-grade NAT"),
        pytest.param("https://100.100.100.200/x", id="alibaba metadata"),
        pytest.param("https://0.0.0.0/x", id="the unspecified address"),
        pytest.param("https://[::1]/x", id="IPv6 loopback"),
        pytest.param("https://[fe80::1]/x", id="IPv6 link-local"),
        pytest.param("https://[fc00::1]/x", id="IPv6 unique local"),
        pytest.param("https://[fd00:ec2::254]/x", id="AWS IPv6 metadata"),
        pytest.param("https://[::ffff:127.0.0.1]/x", id="IPv4-mapped IPv6 loopback"),
        pytest.param("https://[::ffff:169.254.169.254]/x", id="IPv4-mapped metadata"),
        pytest.param("https://[64:ff9b::a00:1]/x", id="NAT64 of a private address"),
        pytest.param("https://2130706433/x", id="loopback as one decimal number"),
        pytest.param("https://0177.0.0.1/x", id="loopback in octal"),
        pytest.param("https://0x7f.1/x", id="loopback in hex, two parts"),
        pytest.param("https://0x7f000001/x", id="loopback as one hex number"),
        pytest.param("https://127.1/x", id="loopback with two parts"),
        pytest.param("https://127.0.0.1./x", id="loopback with a trailing dot"),
    ],
)
def test_forbidden_address_literals_are_refused_even_when_listed_as_extra_hosts(url: str) -> None:
    permissive_hosts = UrlPolicy(extra_hosts=("*", "127.0.0.1", "2130706433", "0x7f.1", "::1"))
    for policy in (STRICT, permissive_hosts):
        reason = check_url(url, SLACK, policy)
        assert reason is not None
        assert "range" in reason


def test_a_public_address_in_a_legacy_numeric_form_is_refused() -> None:
    policy = UrlPolicy(extra_hosts=("8.8.8.8", "0x08080808"))
    assert check_url("https://8.8.8.8/x", SLACK, policy) is None
    reason = check_url("https://0x08080808/x", SLACK, policy)
    assert reason is not None
    assert "numeric" in reason


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        pytest.param("x.webhook.office.com", True, id="a subdomain matches the wildcard"),
        pytest.param("a.b.webhook.office.com", True, id="a deeper subdomain matches"),
        pytest.param("X.WEBHOOK.OFFICE.COM", True, id="case does not matter"),
        pytest.param("x.webhook.office.com.", True, id="a trailing dot does not matter"),
        pytest.param("webhook.office.com", False, id="the wildcard's own domain does not match"),
        pytest.param("evil-webhook.office.com", False, id="a dash instead of a dot does not"),
        pytest.param("x.webhook.office.com.evil.com", False, id="a suffix does not match"),
        pytest.param("xwebhook.office.com", False, id="no dot before the domain does not match"),
        pytest.param(".webhook.office.com", False, id="an empty label does not match"),
    ],
)
def test_wildcard_hosts_match_subdomains_only(host: str, allowed: bool) -> None:
    assert host_matches(host, OFFICIAL_HOSTS[TEAMS]) is allowed
    assert (check_url(f"https://{host}/webhookb2/x", TEAMS, STRICT) is None) is allowed


def test_extra_hosts_extend_every_type_and_accept_wildcards() -> None:
    policy = UrlPolicy(extra_hosts=("chat.example.com", "*.hooks.example.org"))
    for channel_type in ChannelType:
        assert check_url("https://chat.example.com/hook", channel_type, policy) is None
        assert check_url("https://a.hooks.example.org/hook", channel_type, policy) is None
        assert check_url("https://hooks.example.org/hook", channel_type, policy) is not None
        assert check_url("https://chat.example.com/hook", channel_type, STRICT) is not None


def test_insecure_policy_allows_http_any_host_and_loopback_but_still_needs_a_url() -> None:
    insecure = UrlPolicy(allow_insecure=True)
    assert check_url("http://127.0.0.1:8080/slack", SLACK, insecure) is None
    assert check_url("http://localhost:1/x", SLACK, insecure) is None
    assert check_url("not a url", SLACK, insecure) is not None
    assert check_url("file:///etc/passwd", SLACK, insecure) is not None


def test_reasons_never_repeat_the_url() -> None:
    secret = "SECRETPART"
    for url in (
        f"http://hooks.slack.com/services/{secret}",
        f"https://evil.com/{secret}",
        f"https://u:{secret}@hooks.slack.com/x",
        f"https://127.0.0.1/{secret}",
        f"https://hooks.slack.com:1/{secret}",
    ):
        reason = check_url(url, SLACK, STRICT)
        assert reason is not None
        assert secret not in reason
        assert "evil" not in reason


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        pytest.param("8.8.8.8", False, id="a public IPv4 address is fine"),
        pytest.param("2001:4860:4860::8888", False, id="a public IPv6 address is fine"),
        pytest.param("127.0.0.1", True, id="IPv4 loopback"),
        pytest.param("127.255.0.9", True, id="all of 127/8"),
        pytest.param("10.1.2.3", True, id="10/8"),
        pytest.param("172.31.255.255", True, id="172.16/12"),
        pytest.param("192.168.0.1", True, id="192.168/16"),
        pytest.param("169.254.169.254", True, id="metadata"),
        pytest.param("100.64.0.1", True, id="CGNAT low end"),
        pytest.param("100.127.255.254", True, id="CGNAT high end"),
        pytest.param("224.0.0.1", True, id="multicast"),
        pytest.param("240.0.0.1", True, id="reserved"),
        pytest.param("255.255.255.255", True, id="broadcast"),
        pytest.param("0.0.0.0", True, id="unspecified"),
        pytest.param("192.0.2.1", True, id="documentation range"),
        pytest.param("::1", True, id="IPv6 loopback"),
        pytest.param("::", True, id="IPv6 unspecified"),
        pytest.param("fe80::1", True, id="IPv6 link-local"),
        pytest.param("fe80::1%eth0", True, id="IPv6 link-local with a zone"),
        pytest.param("fd12:3456::1", True, id="IPv6 unique local"),
        pytest.param("ff02::1", True, id="IPv6 multicast"),
        pytest.param("::ffff:10.0.0.1", True, id="IPv4-mapped private"),
        pytest.param("::ffff:8.8.8.8", False, id="IPv4-mapped public is fine"),
        pytest.param("64:ff9b::7f00:1", True, id="NAT64 loopback"),
        pytest.param("2002:7f00:1::1", True, id="6to4 of loopback"),
        pytest.param("fd00:ec2::254", True, id="AWS IPv6 metadata"),
        pytest.param("not-an-ip", True, id="anything unparseable fails closed"),
    ],
)
def test_forbidden_address(address: str, forbidden: bool) -> None:
    assert forbidden_address(address) is forbidden


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("127.0.0.1", "127.0.0.1", id="dotted decimal"),
        pytest.param("2130706433", "127.0.0.1", id="one decimal number"),
        pytest.param("0177.0.0.1", "127.0.0.1", id="octal first part"),
        pytest.param("0x7f.1", "127.0.0.1", id="hex and a two-part form"),
        pytest.param("0X7F.0.0.1", "127.0.0.1", id="upper-case hex"),
        pytest.param("127.1", "127.0.0.1", id="two parts"),
        pytest.param("10.1.256", "10.1.1.0", id="three parts, the last filling two bytes"),
        pytest.param("0", "0.0.0.0", id="a lone zero"),
        pytest.param("[::1]", "::1", id="bracketed IPv6"),
        pytest.param("hooks.slack.com", None, id="a name"),
        pytest.param("1.2.3.4.5", None, id="five parts"),
        pytest.param("256.1.1.1", None, id="a part too large"),
        pytest.param("4294967296", None, id="a number too large"),
        pytest.param("08.1.1.1", None, id="8 is not an octal digit"),
        pytest.param("0x.1.1.1g", None, id="garbage"),
        pytest.param("1..1", None, id="an empty part"),
    ],
)
def test_ip_literal_reads_every_form_the_system_resolver_accepts(
    host: str, expected: str | None
) -> None:
    found = ip_literal(host)
    assert found == (None if expected is None else ipaddress.ip_address(expected))
