"""Which webhook targets the service may call (ARCHITECTURE.md §4): the SSRF guard's pure half.

Two checks, both pure:
- `check_url(url, type, policy)`: before any request, the URL's shape: https, no user info,
  default port, no whitespace, control characters or backslashes (where URL parsers disagree),
  no IP literal in a forbidden range (nor in a legacy numeric form like `2130706433` or
  `0x7f.1`), and a host on the channel type's official list or in `WEBHOOK_EXTRA_HOSTS`.
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

from yarl import URL

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


#: Characters no webhook URL needs and URL parsers treat differently (WHATWG turns `\\` into `/`
#: and strips tabs and newlines; Python's `urlsplit` drops some of them too).
_AMBIGUOUS_CHARS = frozenset("\\") | frozenset(chr(c) for c in range(0x21)) | {"\x7f"}


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """`extra_hosts`: more allowed hosts (`*.example.com` matches subdomains); `allow_insecure`:
    lift every check (http, any host, any address), for tests and local demos only."""

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
    if any(ch in _AMBIGUOUS_CHARS for ch in url):
        return "whitespace, control characters or backslashes in the URL are not allowed"
    if "@" in parts.netloc:
        return "user info in the URL is not allowed"
    if port not in (None, 443):
        return "only the default https port is allowed"
    literal = ip_literal(host)
    if literal is not None and forbidden_address(literal):
        return "the address is in a private, loopback, link-local or metadata range"
    if isinstance(literal, ipaddress.IPv4Address) and str(literal) != host:
        return "numeric IPv4 forms other than dotted decimal are not allowed"
    allowed = OFFICIAL_HOSTS[channel_type] + policy.extra_hosts
    if not host_matches(host, allowed):
        return f"host is not an official {channel_type.value} webhook host"
    if _client_host(url) != host.rstrip("."):
        return "the URL's host is ambiguous"
    return None


def _client_host(url: str) -> str | None:
    """The host the HTTP client (yarl, under aiohttp) will connect to, to catch parser mismatch."""
    try:
        raw = URL(url, encoded=url.isascii()).raw_host
    except ValueError:
        return None
    return raw.lower().rstrip(".") if raw else None


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host string denotes by itself, without DNS; None for a name.

    Besides the canonical forms this reads the legacy IPv4 forms that `inet_aton` (and so the
    system resolver) accepts: 1 to 4 parts, each decimal, octal (`0177`) or hex (`0x7f`), the
    last part filling the remaining bytes (`127.1`, `2130706433`, `0x7f.1`).
    """
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    return _legacy_ipv4(host)


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        number = _inet_aton_part(part)
        if number is None:
            return None
        numbers.append(number)
    *head, last = numbers
    if any(n > 0xFF for n in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    value = 0
    for n in head:
        value = value << 8 | n
    return ipaddress.IPv4Address(value << (8 * (4 - len(head))) | last)


def _inet_aton_part(part: str) -> int | None:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return int(lowered[2:] or "0", 16) if _is_digits(lowered[2:], 16) else None
    if len(lowered) > 1 and lowered.startswith("0"):
        return int(lowered, 8) if _is_digits(lowered, 8) else None
    return int(lowered) if lowered and _is_digits(lowered, 10) else None


def _is_digits(text: str, base: int) -> bool:
    allowed = "0123456789abcdef"[:base]
    return all(ch in allowed for ch in text)


def forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> bool:
    """True for an address the service must never connect to (unless insecure targets are on).

    A string that is not an IP address at all counts as forbidden: this is a guard, it fails
    closed.
    """
    if isinstance(ip, str):
        try:
            addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(ip)
        except ValueError:
            return True
    else:
        addr = ip
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
