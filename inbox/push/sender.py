"""Sending pushes with VAPID: many at once over kept-alive connections (inbox.push.client), one
VAPID token per push service origin (inbox.push.vapid), one failure never stopping the others,
each answer sorted into sent, gone (404/410: remove it), retry (later) or failed (give up)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from inbox.conf import inbox_setting

from . import vapid
from .client import Post, Reply, post_all, post_stream
from .endpoints import BlockedAddress, check_url
from .keys import InvalidSubscription, b64url_bytes

URGENCY = {"info": "normal", "success": "normal", "warning": "normal", "error": "high"}
TOPIC = "inbox"  # a push service keeps only the newest undelivered push with one topic
logger = logging.getLogger(__name__)


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


def send_pushes(jobs: list[PushJob], *, ttl: int, urgency: str) -> list[Outcome]:
    """Send every job, INBOX_PUSH_CONCURRENCY at once; one failure never stops the others. The
    outcomes in the jobs' order."""
    if not jobs:
        return []
    replies = post_all(
        jobs,
        preparer(ttl, urgency),
        concurrency=inbox_setting("PUSH_CONCURRENCY"),
        timeout=inbox_setting("PUSH_TIMEOUT"),
    )
    return [outcome(job, reply) for job, reply in zip(jobs, replies, strict=True)]


def stream_pushes(jobs: list[PushJob], *, ttl: int, urgency: str, wave: int) -> Iterator[list[Outcome]]:
    """Send every job as send_pushes does, and yield the outcomes half a `wave` at a time in the
    order the answers come. The sending goes on while the caller works on them (records their
    receipts), but at most `wave` pushes are ever out without being in outcomes the caller is done
    with (see inbox.push.client.post_stream): a worker killed at any moment has at most one wave
    sent and not recorded. In flight: INBOX_PUSH_CONCURRENCY, at most `wave`."""
    if not jobs:
        return
    wave = max(1, wave)
    for answers in post_stream(
        jobs,
        preparer(ttl, urgency),
        concurrency=min(inbox_setting("PUSH_CONCURRENCY"), wave),
        timeout=inbox_setting("PUSH_TIMEOUT"),
        chunk=max(1, wave // 2),
        limit=wave,
    ):
        yield [outcome(jobs[index], reply) for index, reply in answers]


def preparer(ttl: int, urgency: str) -> Callable[[PushJob], Post]:
    """What makes each job's request, for one sending call: its endpoint checked, its payload
    encrypted, the VAPID token of its push service (fetched once per origin in the call: a token
    is never handed out in its last hour, and a call lasts minutes at most)."""
    keys = settings.WEBPUSH_SETTINGS
    signer = vapid.signer(keys["VAPID_PRIVATE_KEY"], f"mailto:{keys['VAPID_ADMIN_EMAIL']}")
    common = {"TTL": str(ttl), "Urgency": urgency, "Topic": TOPIC, "Content-Encoding": "aes128gcm"}
    headers_of: dict[str, dict[str, str]] = {}  # origin -> the headers of its pushes

    def prepare(job: PushJob) -> Post:
        scheme, _host, _port = check_url(job.endpoint)
        origin = f"{scheme}://{urlsplit(job.endpoint).netloc}"  # the JWT's audience
        if (headers := headers_of.get(origin)) is None:
            headers = headers_of[origin] = common | {"Authorization": signer.authorization(origin)}
        receiver_key = b64url_bytes(job.p256dh, "p256dh", 65)
        auth_secret = b64url_bytes(job.auth, "auth", 16)
        return Post(job.endpoint, headers, encrypt(encode_payload(job.payload), receiver_key, auth_secret))

    return prepare


def encrypt(plaintext: bytes, receiver_key: bytes, auth_secret: bytes) -> bytes:
    """A push's body as pywebpush's WebPusher.encode(data, "aes128gcm") makes it (RFC 8291): a
    P-256 key of its own for this push, ECDH with the browser's key, http_ece's random salt and
    4,096-byte records. Called without a WebPusher per push, which deep-copies the subscription
    and decodes its keys leniently each time (they are decoded strictly here, as when stored)."""
    return http_ece.encrypt(
        plaintext,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=receiver_key,
        auth_secret=auth_secret,
        version="aes128gcm",
    )


def encode_payload(data) -> bytes:
    """The push's plaintext: compact JSON in UTF-8 (not \\u escapes, which take 6 to 12 bytes
    a character). inbox.push.tasks.fit_payload measures a payload with this very encoding."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def outcome(job: PushJob, reply: Reply | Exception) -> Outcome:
    """Only the push service can say a subscription is gone (404 or 410): a host that does not
    resolve or cannot be reached is tried again later, an endpoint that now leads to a
    non-public address is not contacted ("failed") but kept."""
    if isinstance(reply, Reply):
        return outcome_of_reply(job, reply)
    error = reply
    if isinstance(error, aiohttp.ClientConnectorError) and isinstance(error.os_error, BlockedAddress):
        error = error.os_error  # raised by the resolver, wrapped by aiohttp
    if isinstance(error, (InvalidSubscription, BlockedAddress)):
        logger.warning("Not pushing to subscription %s: %s", job.subscription_id, error)
        return Outcome(job.subscription_id, "failed", detail=str(error)[:200])
    detail = f"{type(error).__name__}: {error}"[:200]
    if isinstance(error, (aiohttp.ClientError, TimeoutError, ConnectionError)):
        return Outcome(job.subscription_id, "retry", detail=detail)  # unresolved, refused, timed out
    # A bad key or URL in one subscription (http_ece, cryptography, aiohttp) stops only its push.
    return Outcome(job.subscription_id, "failed", detail=detail)


def outcome_of_reply(job: PushJob, reply: Reply) -> Outcome:
    status = reply.status
    if 200 <= status <= 202:
        return Outcome(job.subscription_id, "sent", status)
    if status in (404, 410):
        return Outcome(job.subscription_id, "gone", status)
    if status == 429 or status >= 500:
        return Outcome(job.subscription_id, "retry", status, retry_after=parse_retry_after(reply.retry_after))
    detail = f"Push failed: {status} {reply.reason}; the push service said: {reply.text}"  # 3xx too
    return Outcome(job.subscription_id, "failed", status, detail=detail[:200])


def parse_retry_after(value) -> float | None:
    """Retry-After in seconds (HTTP dates are rare from push services and are ignored)."""
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None
