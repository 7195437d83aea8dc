"""Endpoint checks: a subscription's endpoint is a URL the server will POST to, so it is checked
like any user-supplied URL: https only, on a port push services use (INBOX_PUSH_PORTS), and
every address it resolves to must be public (no private, loopback, link-local, site-local,
reserved, NAT64 or IPv4-in-IPv6 forms), when it is saved and again when a push is sent. When
sending, the host is resolved once, every address is checked, and the connection goes to a
checked address (inbox.push.client.PinnedResolver): a second lookup by the HTTP library could
answer differently (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from inbox.conf import inbox_setting

from .keys import InvalidSubscription

# IANA's global unicast space: every public IPv6 address is in it. Outside it lie ::/8 (the
# IPv4-compatible ::a.b.c.d, IPv4-translated ::ffff:0:a.b.c.d, NAT64 64:ff9b::/96 and
# 64:ff9b:1::/48 forms, all ways back into IPv4), unique-local fc00::/7, link-local fe80::/10,
# site-local fec0::/10 and multicast ff00::/8. Python's is_global says True for some of these
# (::ffff:0:127.0.0.1, fec0::1), so the range is checked first.
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
ENDPOINT_MAX_LENGTH = 500  # django-webpush's SubscriptionInfo.endpoint
PRINTABLE_ASCII = re.compile(r"[!-~]+", re.ASCII)  # no spaces, no control characters


class BlockedAddress(OSError):
    """The push host now resolves to an address the server must not contact."""


class UnresolvableHost(ConnectionError):
    """The push host did not resolve this time (perhaps a passing DNS failure): try later."""


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, in the resolver's order of preference."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a push may go to this address: globally routable unicast. An IPv4-mapped IPv6
    address (::ffff:a.b.c.d, what a dual-stack resolver may give) is judged by its IPv4
    address; any other IPv6 form that leads back into IPv4 space (IPv4-compatible,
    IPv4-translated, NAT64, 6to4, Teredo) is refused whatever it embeds."""
    if address.version == 6:
        if address.ipv4_mapped:
            return is_public_address(address.ipv4_mapped)
        if address not in GLOBAL_UNICAST or address.is_site_local:
            return False
        if address.sixtofour or address.teredo:
            return False
    return address.is_global and not address.is_multicast


def check_url(url) -> tuple[str, str, int]:
    """The scheme, host and port of a push endpoint, checked without any lookup."""
    clean_endpoint(url)
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidSubscription("The endpoint is not a valid URL.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidSubscription("The endpoint must be an https:// URL.")
    if parts.username or parts.password:
        raise InvalidSubscription("The endpoint must not carry a user name or password.")
    return parts.scheme, parts.hostname, port


def check_addresses(scheme: str, addresses: list, port: int) -> None:
    """Raise InvalidSubscription unless a push may go to every one of these addresses, on this
    port (INBOX_PUSH_ALLOW_LOOPBACK also lets http://127.0.0.1:<any port> through, for tests)."""
    if inbox_setting("PUSH_ALLOW_LOOPBACK") and all(a.is_loopback for a in addresses):
        return
    if scheme != "https":
        raise InvalidSubscription("The endpoint must be an https:// URL.")
    if port not in inbox_setting("PUSH_PORTS"):
        # A port is a service: an endpoint on :22 or :6379 of a public host is not a push service.
        raise InvalidSubscription(f"The endpoint's port {port} is not one push services use.")
    if blocked := sorted(str(a) for a in addresses if not is_public_address(a)):
        raise InvalidSubscription(
            f"The endpoint's host resolves to a non-public address ({', '.join(blocked)})."
        )


def addresses_of(host: str, port: int) -> list:
    """The host's addresses as ipaddress objects; OSError or UnicodeError when it does not resolve."""
    found = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
    if not found:
        raise OSError(f"{host} has no address")
    return found


def check_endpoint(url: str) -> None:
    """Raise InvalidSubscription unless `url` is an https URL whose host resolves only to
    public addresses."""
    scheme, host, port = check_url(url)
    try:
        addresses = addresses_of(host, port)
    except (OSError, UnicodeError, ValueError):
        raise InvalidSubscription(f"The endpoint's host {host} does not resolve.") from None
    check_addresses(scheme, addresses, port)


def clean_endpoint(endpoint) -> str:
    """The endpoint as a string a database and a URL parser can take, or InvalidSubscription."""
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidSubscription("The subscription has no endpoint.")
    if len(endpoint) > ENDPOINT_MAX_LENGTH:
        raise InvalidSubscription(f"The endpoint is longer than {ENDPOINT_MAX_LENGTH} characters.")
    if not PRINTABLE_ASCII.fullmatch(endpoint):
        raise InvalidSubscription("The endpoint must be a URL without spaces or control characters.")
    return endpoint
