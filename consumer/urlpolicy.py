"""Which webhook targets the service may call (ARCHITECTURE.md §4): the SSRF guard's pure half.

Two checks, both pure:
- `check_url(url, type, policy)`: before any request, the URL's shape: https, no user info,
  default port, and a host on the channel type's official list or in `WEBHOOK_EXTRA_HOSTS`.
- `forbidden_address(ip)`: at connect time, on every address the name resolved to (so a DNS
  answer that changes between check and connect, "DNS rebinding", cannot slip through):
  loopback, private, link-local, CGNAT, multicast, reserved and cloud-metadata addresses.

`WEBHOOK_ALLOW_INSECURE_TARGETS=true` lifts both (tests and local demos only).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from consumer.channel import ChannelType

#: Official webhook hosts per channel type. "*.x" matches any subdomain of x (not x itself).
OFFICIAL_HOSTS: dict[ChannelType, tuple[str, ...]] = {
    ChannelType.SLACK: ("hooks.slack.com",),
    ChannelType.DISCORD: ("discord.com", "discordapp.com"),
    ChannelType.TEAMS: (
        "*.webhook.office.com",
        "*.logic.azure.com",
        "*.powerplatform.com",
        "*.powerautomate.com",
    ),
    ChannelType.KAKAOWORK: ("kakaowork.com",),
    ChannelType.TELEGRAM: ("api.telegram.org",),
}

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_METADATA = (
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
)


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    extra_hosts: tuple[str, ...] = ()
    allow_insecure: bool = False


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower().rstrip(".")
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def check_url(url: str, channel_type: ChannelType, policy: UrlPolicy) -> str | None:
    """None when the URL may be called, else a short reason (which never repeats the URL)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a valid URL"
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return "not an http(s) URL"
    if policy.allow_insecure:
        return None
    if parts.scheme != "https":
        return "only https URLs are allowed"
    if parts.username is not None or parts.password is not None:
        return "user info in the URL is not allowed"
    if port not in (None, 443):
        return "only the default https port is allowed"
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and forbidden_address(literal):
        return "the address is in a private, loopback, link-local or metadata range"
    allowed = OFFICIAL_HOSTS[channel_type] + policy.extra_hosts
    if not host_matches(host, allowed):
        return f"host is not an official {channel_type.value} webhook host"
    return None


def forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> bool:
    """True for an address the service must never connect to (unless insecure targets are on)."""
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return forbidden_address(addr.ipv4_mapped)
        if addr in _NAT64:
            return forbidden_address(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        if addr.sixtofour is not None and forbidden_address(addr.sixtofour):
            return True
    if addr in _METADATA:
        return True
    if isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT:
        return True
    return (
        addr.is_loopback
        or addr.is_private
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )
