"""Web Push: checking browser subscriptions and sending to them with VAPID.

A subscription's endpoint is a URL the server will POST to, so it is checked like any
user-supplied URL: https only, and every address it resolves to must be public (no private,
loopback, link-local or reserved ranges), both when it is saved and again before each send.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from requests.adapters import HTTPAdapter

from .conf import inbox_setting

__all__ = [
    "InvalidSubscription",
    "Outcome",
    "PushJob",
    "check_endpoint",
    "clean_subscription",
    "push_configured",
    "send_pushes",
]

ENDPOINT_MAX_LENGTH = 500  # django-webpush's SubscriptionInfo.endpoint


class InvalidSubscription(ValueError):
    """The subscription cannot be stored or used; the message says why."""


def push_configured() -> bool:
    keys = getattr(settings, "WEBPUSH_SETTINGS", {})
    return bool(keys.get("VAPID_PUBLIC_KEY") and keys.get("VAPID_PRIVATE_KEY"))


def b64url_bytes(value, name: str, length: int) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidSubscription(f"The subscription has no {name} key.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidSubscription(f"The {name} key is not base64url.") from None
    if len(raw) != length:
        raise InvalidSubscription(f"The {name} key must be {length} bytes, not {len(raw)}.")
    return raw


def clean_subscription(data) -> dict:
    """A PushSubscription's JSON ({"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}})
    as the fields django-webpush stores, or InvalidSubscription."""
    if not isinstance(data, dict):
        raise InvalidSubscription("The subscription must be a JSON object.")
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidSubscription("The subscription has no endpoint.")
    if not isinstance(keys, dict):
        raise InvalidSubscription("The subscription has no keys.")
    if b64url_bytes(keys.get("p256dh"), "p256dh", 65)[0] != 4:
        raise InvalidSubscription("The p256dh key is not an uncompressed P-256 point.")
    b64url_bytes(keys.get("auth"), "auth", 16)
    check_endpoint(endpoint)
    return {"endpoint": endpoint, "p256dh": keys["p256dh"], "auth": keys["auth"]}


def resolve(host: str, port: int) -> set[str]:
    return {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}


def check_endpoint(url: str) -> None:
    """Raise InvalidSubscription unless `url` is an https URL whose host resolves only to
    public addresses (INBOX_PUSH_ALLOW_LOOPBACK also lets http://127.0.0.1 through, for tests)."""
    if len(url) > ENDPOINT_MAX_LENGTH:
        raise InvalidSubscription(f"The endpoint is longer than {ENDPOINT_MAX_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidSubscription("The endpoint is not a valid URL.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidSubscription("The endpoint must be an https:// URL.")
    if parts.username or parts.password:
        raise InvalidSubscription("The endpoint must not carry a user name or password.")
    try:
        addresses = {ipaddress.ip_address(a.split("%")[0]) for a in resolve(parts.hostname, port)}
    except (OSError, UnicodeError):
        raise InvalidSubscription(f"The endpoint's host {parts.hostname} does not resolve.") from None
    if inbox_setting("PUSH_ALLOW_LOOPBACK") and all(a.is_loopback for a in addresses):
        return
    if parts.scheme != "https":
        raise InvalidSubscription("The endpoint must be an https:// URL.")
    if blocked := sorted(str(a) for a in addresses if not a.is_global or a.is_multicast):
        raise InvalidSubscription(
            f"The endpoint's host resolves to a non-public address ({', '.join(blocked)})."
        )


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


class NoRedirects(requests.Session):
    """A push service answers, it does not redirect: a redirect could point inside the network."""

    def __init__(self):
        super().__init__()
        self.max_redirects = 0


def send_pushes(jobs: list[PushJob], *, ttl: int, urgency: str) -> list[Outcome]:
    """Send every job concurrently; one failure never stops the others."""
    if not jobs:
        return []
    keys = settings.WEBPUSH_SETTINGS
    vapid = Vapid.from_string(keys["VAPID_PRIVATE_KEY"])
    concurrency = min(inbox_setting("PUSH_CONCURRENCY"), len(jobs))
    with NoRedirects() as session:
        session.mount("https://", HTTPAdapter(pool_maxsize=concurrency))
        session.mount("http://", HTTPAdapter(pool_maxsize=concurrency))

        def send(job: PushJob) -> Outcome:
            return send_one(job, session, vapid, keys["VAPID_ADMIN_EMAIL"], ttl, urgency)

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(send, jobs))


def send_one(job, session, vapid, admin_email, ttl, urgency) -> Outcome:
    try:
        check_endpoint(job.endpoint)  # again: DNS may have changed since it was saved
    except InvalidSubscription as error:
        return Outcome(job.subscription_id, "gone", detail=str(error))
    try:
        webpush(
            {"endpoint": job.endpoint, "keys": {"p256dh": job.p256dh, "auth": job.auth}},
            json.dumps(job.payload),
            vapid_private_key=vapid,
            vapid_claims={"sub": f"mailto:{admin_email}"},  # a fresh dict: webpush() fills it in
            ttl=ttl,
            headers={"Urgency": urgency, "Topic": TOPIC},
            timeout=inbox_setting("PUSH_TIMEOUT"),
            requests_session=session,
        )
    except WebPushException as error:
        return outcome_of_failure(job, error)
    except requests.RequestException as error:  # refused, timed out, redirected
        kind = "failed" if isinstance(error, requests.TooManyRedirects) else "retry"
        return Outcome(job.subscription_id, kind, detail=type(error).__name__)
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
