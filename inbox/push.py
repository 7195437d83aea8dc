"""Web Push: checking browser subscriptions and sending to them with VAPID.

A subscription's endpoint is a URL the server will POST to, so it is checked like any
user-supplied URL: https only, and every address it resolves to must be public (no private,
loopback, link-local, reserved, NAT64 or IPv4-in-IPv6 forms), both when it is saved and again
when a push is sent. When sending, the host is resolved once, every address is checked, and the
connection goes to a checked address (PinnedAdapter): a second lookup by the HTTP library could
answer differently (DNS rebinding).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import logging
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from requests.adapters import HTTPAdapter

from .conf import inbox_setting

__all__ = [
    "BlockedAddress",
    "InvalidSubscription",
    "Outcome",
    "PinnedAdapter",
    "PushJob",
    "check_endpoint",
    "clean_endpoint",
    "clean_subscription",
    "encode_payload",
    "is_public_address",
    "push_configured",
    "secrets_match",
    "send_pushes",
]

logger = logging.getLogger(__name__)

ENDPOINT_MAX_LENGTH = 500  # django-webpush's SubscriptionInfo.endpoint
KEY_MAX_LENGTH = 100  # django-webpush's p256dh and auth columns
BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}", re.ASCII)
PRINTABLE_ASCII = re.compile(r"[!-~]+", re.ASCII)  # no spaces, no control characters
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # ::a.b.c.d, deprecated, reaches IPv4


class InvalidSubscription(ValueError):
    """The subscription cannot be stored or used; the message says why."""


class BlockedAddress(requests.RequestException):
    """The push host now resolves to an address the server must not contact."""


class UnresolvableHost(requests.ConnectionError):
    """The push host did not resolve this time (perhaps a passing DNS failure): try later."""


def push_configured() -> bool:
    keys = getattr(settings, "WEBPUSH_SETTINGS", {})
    return bool(keys.get("VAPID_PUBLIC_KEY") and keys.get("VAPID_PRIVATE_KEY"))


def b64url_decode(value: str) -> bytes | None:
    """Strict base64url: only A-Z a-z 0-9 - _ with optional correct '=' padding, else None
    (the standard decoder silently skips characters outside the alphabet)."""
    if not isinstance(value, str) or not BASE64URL.fullmatch(value):
        return None
    if "=" in value and len(value) % 4:
        return None
    data = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_bytes(value, name: str, length: int) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidSubscription(f"The subscription has no {name} key.")
    if len(value) > KEY_MAX_LENGTH:
        raise InvalidSubscription(f"The {name} key is longer than {KEY_MAX_LENGTH} characters.")
    raw = b64url_decode(value)
    if raw is None:
        raise InvalidSubscription(f"The {name} key is not base64url (A-Z, a-z, 0-9, - and _ only).")
    if len(raw) != length:
        raise InvalidSubscription(f"The {name} key must be {length} bytes, not {len(raw)}.")
    return raw


def secrets_match(given, stored: str) -> bool:
    """Whether `given` is the same auth secret as `stored`, in constant time (both compared in
    their normalized unpadded form)."""
    if not isinstance(given, str) or len(given) > KEY_MAX_LENGTH:
        given = ""
    given_raw, stored_raw = b64url_decode(given), b64url_decode(stored)
    left = b64url_encode(given_raw) if given_raw else "-"  # never equal to a real secret
    right = b64url_encode(stored_raw) if stored_raw else stored
    return bool(given_raw) & hmac.compare_digest(left.encode(), right.encode())


def clean_endpoint(endpoint) -> str:
    """The endpoint as a string a database and a URL parser can take, or InvalidSubscription."""
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidSubscription("The subscription has no endpoint.")
    if len(endpoint) > ENDPOINT_MAX_LENGTH:
        raise InvalidSubscription(f"The endpoint is longer than {ENDPOINT_MAX_LENGTH} characters.")
    if not PRINTABLE_ASCII.fullmatch(endpoint):
        raise InvalidSubscription("The endpoint must be a URL without spaces or control characters.")
    return endpoint


def clean_subscription(data) -> dict:
    """A PushSubscription's JSON ({"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}})
    as the fields django-webpush stores (keys in unpadded base64url), or InvalidSubscription."""
    if not isinstance(data, dict):
        raise InvalidSubscription("The subscription must be a JSON object.")
    endpoint = clean_endpoint(data.get("endpoint"))
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise InvalidSubscription("The subscription has no keys.")
    p256dh = b64url_bytes(keys.get("p256dh"), "p256dh", 65)
    try:
        if p256dh[0] != 4:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    except ValueError:
        raise InvalidSubscription("The p256dh key is not an uncompressed P-256 point.") from None
    auth = b64url_bytes(keys.get("auth"), "auth", 16)
    check_endpoint(endpoint)
    return {"endpoint": endpoint, "p256dh": b64url_encode(p256dh), "auth": b64url_encode(auth)}


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


@dataclass(frozen=True)
class PushJob:
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str
    payload: dict


@dataclass(frozen=True)
class Outcome:
    subscription_id: int
    kind: str  # "sent", "gone" (remove it), "retry" (later) or "failed" (give up)
    status: int | None = None
    retry_after: float | None = None
    detail: str = ""


URGENCY = {"info": "low", "success": "normal", "warning": "normal", "error": "high"}
TOPIC = "inbox"  # a push service keeps only the newest undelivered push with one topic


class PushSession(requests.Session):
    """A push service answers, it does not redirect: a redirect could point inside the network.
    Nothing comes from the environment (no proxy, no .netrc credentials)."""

    def __init__(self, pool_size: int):
        super().__init__()
        self.max_redirects = 0
        self.trust_env = False
        self.mount("https://", PinnedAdapter(pool_maxsize=pool_size))
        self.mount("http://", PinnedAdapter(pool_maxsize=pool_size))


def send_pushes(jobs: list[PushJob], *, ttl: int, urgency: str) -> list[Outcome]:
    """Send every job concurrently; one failure never stops the others."""
    if not jobs:
        return []
    keys = settings.WEBPUSH_SETTINGS
    vapid = Vapid.from_string(keys["VAPID_PRIVATE_KEY"])
    concurrency = min(inbox_setting("PUSH_CONCURRENCY"), len(jobs))
    with PushSession(concurrency) as session:

        def send(job: PushJob) -> Outcome:
            return send_one(job, session, vapid, keys["VAPID_ADMIN_EMAIL"], ttl, urgency)

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(send, jobs))


def encode_payload(data) -> bytes:
    """The push's plaintext: compact JSON in UTF-8 (not \\u escapes, which take 6 to 12 bytes
    a character). inbox.tasks.fit_payload measures a payload with this very encoding."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def send_one(job, session, vapid, admin_email, ttl, urgency) -> Outcome:
    """Only the push service can say a subscription is gone (404 or 410): a host that does not
    resolve or cannot be reached is tried again later, an endpoint that now leads to a
    non-public address is not contacted ("failed") but kept."""
    try:
        check_url(job.endpoint)  # its addresses are checked by PinnedAdapter, at connection time
        webpush(
            {"endpoint": job.endpoint, "keys": {"p256dh": job.p256dh, "auth": job.auth}},
            encode_payload(job.payload),
            vapid_private_key=vapid,
            vapid_claims={"sub": f"mailto:{admin_email}"},  # a fresh dict: webpush() fills it in
            ttl=ttl,
            headers={"Urgency": urgency, "Topic": TOPIC},
            timeout=inbox_setting("PUSH_TIMEOUT"),
            requests_session=session,
        )
    except WebPushException as error:
        return outcome_of_failure(job, error)
    except (InvalidSubscription, BlockedAddress) as error:
        logger.warning("Not pushing to subscription %s: %s", job.subscription_id, error)
        return Outcome(job.subscription_id, "failed", detail=str(error)[:200])
    except requests.RequestException as error:  # did not resolve, refused, timed out, redirected
        kind = "failed" if isinstance(error, requests.TooManyRedirects) else "retry"
        return Outcome(job.subscription_id, kind, detail=f"{type(error).__name__}: {error}"[:200])
    except Exception as error:  # a bad key or URL in one subscription must not stop the rest
        return Outcome(job.subscription_id, "failed", detail=f"{type(error).__name__}: {error}"[:200])
    return Outcome(job.subscription_id, "sent", status=201)


def outcome_of_failure(job: PushJob, error: WebPushException) -> Outcome:
    response = error.response
    status = getattr(response, "status_code", None)
    if status in (404, 410):
        return Outcome(job.subscription_id, "gone", status)
    if status == 429 or status is None or status >= 500:
        return Outcome(job.subscription_id, "retry", status, retry_after=parse_retry_after(error.retry_after))
    return Outcome(job.subscription_id, "failed", status, detail=str(error)[:200])


def parse_retry_after(value) -> float | None:
    """Retry-After in seconds (HTTP dates are rare from push services and are ignored)."""
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None
