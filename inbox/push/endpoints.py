"""Endpoint checks: a subscription's endpoint is a URL the server will POST to, so it is checked
like any user-supplied URL: https only, and every address it resolves to must be public (no
private, loopback, link-local, reserved, NAT64 or IPv4-in-IPv6 forms), when it is saved and again
when a push is sent. When sending, the host is resolved once, every address is checked, and the
connection goes to a checked address (PinnedAdapter): a second lookup by the HTTP library could
answer differently (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from inbox.conf import inbox_setting

from .keys import InvalidSubscription

NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # ::a.b.c.d, deprecated, reaches IPv4
ENDPOINT_MAX_LENGTH = 500  # django-webpush's SubscriptionInfo.endpoint
PRINTABLE_ASCII = re.compile(r"[!-~]+", re.ASCII)  # no spaces, no control characters


class BlockedAddress(requests.RequestException):
    """The push host now resolves to an address the server must not contact."""


class UnresolvableHost(requests.ConnectionError):
    """The push host did not resolve this time (perhaps a passing DNS failure): try later."""


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, in the resolver's order of preference."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a push may go to this address: globally routable unicast, and not an IPv6 form
    that leads back into IPv4 space (mapped to a private address, NAT64, IPv4-compatible,
    6to4 or Teredo)."""
    if address.version == 6:
        if address.ipv4_mapped:
            return is_public_address(address.ipv4_mapped)
        if any(address in net for net in NAT64) or address in IPV4_COMPATIBLE:
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


def check_addresses(scheme: str, addresses: list) -> None:
    """Raise InvalidSubscription unless a push may go to every one of these addresses
    (INBOX_PUSH_ALLOW_LOOPBACK also lets http://127.0.0.1 through, for tests)."""
    if inbox_setting("PUSH_ALLOW_LOOPBACK") and all(a.is_loopback for a in addresses):
        return
    if scheme != "https":
        raise InvalidSubscription("The endpoint must be an https:// URL.")
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
    check_addresses(scheme, addresses)


class PinnedAdapter(HTTPAdapter):
    """Resolves the host once per request, checks every address, and connects to a checked
    one, while the Host header, TLS SNI and certificate check keep the real host name.
    Proxies are not used: a proxy would resolve the name itself."""

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        try:
            host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
            scheme, host = host_params["scheme"], host_params["host"]
            port = host_params["port"] or (443 if scheme == "https" else 80)
        except (ValueError, KeyError, TypeError) as error:
            raise requests.exceptions.InvalidURL(error, request=request) from None
        try:
            addresses = addresses_of(host, port)
        except (OSError, ValueError) as error:  # socket.gaierror is an OSError
            raise UnresolvableHost(f"{host} did not resolve: {error}", request=request) from None
        except UnicodeError as error:
            raise BlockedAddress(f"{host} is not a valid host name: {error}", request=request) from None
        try:
            check_addresses(scheme, addresses)
        except InvalidSubscription as error:
            raise BlockedAddress(str(error), request=request) from None
        if scheme == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": host, "assert_hostname": host}
        return self.poolmanager.connection_from_host(
            host=str(addresses[0]), port=port, scheme=scheme, pool_kwargs=pool_kwargs
        )

    def add_headers(self, request, **kwargs):
        parts = urlsplit(request.url)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        request.headers["Host"] = f"{host}:{parts.port}" if parts.port else host


def clean_endpoint(endpoint) -> str:
    """The endpoint as a string a database and a URL parser can take, or InvalidSubscription."""
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidSubscription("The subscription has no endpoint.")
    if len(endpoint) > ENDPOINT_MAX_LENGTH:
        raise InvalidSubscription(f"The endpoint is longer than {ENDPOINT_MAX_LENGTH} characters.")
    if not PRINTABLE_ASCII.fullmatch(endpoint):
        raise InvalidSubscription("The endpoint must be a URL without spaces or control characters.")
    return endpoint
