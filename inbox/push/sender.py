"""Sending pushes with VAPID: many at once, one failure never stopping the others, each answer
sorted into sent, gone (404/410: remove it), retry (later) or failed (give up)."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from inbox.conf import inbox_setting

from .endpoints import BlockedAddress, PinnedAdapter, check_url
from .keys import InvalidSubscription

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
    a character). inbox.push.tasks.fit_payload measures a payload with this very encoding."""
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
