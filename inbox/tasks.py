"""Work that talks to the outside world, run by the Tasks framework after the response.

notify() queues `deliver_push` when its transaction commits; the default backend keeps the
queue in the database and `manage.py db_worker` runs it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core import signing
from django.db.models import Count, F
from django.tasks import task
from django.utils import timezone
from webpush.models import SubscriptionInfo

from .conf import inbox_setting
from .models import Message, Notification
from .push import URGENCY, PushJob, push_configured, send_pushes

__all__ = ["deliver_push", "queue_deliveries", "read_token"]

logger = logging.getLogger(__name__)
READ_TOKEN_SALT = "inbox.push.read"
RETRY_BATCH = 5000  # subscription ids per retry task


def queue_deliveries(message_id: int) -> None:
    """Called on commit of a notify(): queue the delivery channels that are configured."""
    if push_configured():
        deliver_push.enqueue(message_id)


def read_token(notification_id: int) -> str:
    """Proof, carried inside the encrypted push, that lets the service worker mark one
    notification read without a CSRF token (a service worker cannot read cookies)."""
    return signing.dumps(notification_id, salt=READ_TOKEN_SALT, compress=True)


@task
def deliver_push(message_id: int, subscription_ids: list[int] | None = None, attempt: int = 1) -> dict:
    """Push one message to every browser its unread recipients subscribed; soft failures
    (429, 5xx, network) are queued again with backoff, gone subscriptions are removed."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.is_expired():
        return {"skipped": "the message was deleted or has expired"}

    # One filter() call, so the conditions and the values below share one join.
    conditions = {"message": message, "read_at__isnull": True, "recipient__webpush_info__isnull": False}
    if subscription_ids is not None:
        conditions["recipient__webpush_info__subscription_id__in"] = subscription_ids
    subscribed = Notification.objects.filter(**conditions)
    targets = subscribed.values(
        "id",
        "recipient_id",
        sub_id=F("recipient__webpush_info__subscription_id"),
        endpoint=F("recipient__webpush_info__subscription__endpoint"),
        p256dh=F("recipient__webpush_info__subscription__p256dh"),
        auth=F("recipient__webpush_info__subscription__auth"),
    )
    targets = list(targets)
    if not targets:
        return {"sent": 0}

    unread = dict(
        Notification.objects.filter(recipient_id__in=subscribed.values("recipient_id"))
        .unread()
        .visible()
        .order_by()
        .values_list("recipient_id")
        .annotate(n=Count("id"))
    )
    jobs = [
        PushJob(
            subscription_id=t["sub_id"],
            endpoint=t["endpoint"],
            p256dh=t["p256dh"],
            auth=t["auth"],
            payload=payload(message, t["id"], unread.get(t["recipient_id"], 0)),
        )
        for t in targets
    ]
    outcomes = send_pushes(jobs, ttl=time_to_live(message), urgency=URGENCY.get(message.level, "normal"))
    return settle(message_id, outcomes, attempt)


def payload(message: Message, notification_id: int, unread: int) -> dict:
    level = message.get_level_display()
    return {
        "title": "Inbox" if message.level == "info" else f"Inbox · {level}",
        "body": message.text,
        "url": message.url or "/inbox/",
        "id": notification_id,
        "level": message.level,
        "unread": unread,
        "read_token": read_token(notification_id),
    }


def time_to_live(message: Message) -> int:
    """The push service may hold it this long: never past the message's expiry."""
    ttl = inbox_setting("PUSH_TTL")
    if message.expires_at:
        ttl = min(ttl, int((message.expires_at - timezone.now()).total_seconds()))
    return max(ttl, 0)


def settle(message_id: int, outcomes, attempt: int) -> dict:
    """Remove gone subscriptions; queue the soft failures again with exponential backoff."""
    by_kind: dict[str, list] = {}
    for outcome in outcomes:
        by_kind.setdefault(outcome.kind, []).append(outcome)
    if gone := by_kind.get("gone"):
        SubscriptionInfo.objects.filter(pk__in=[o.subscription_id for o in gone]).delete()
    retry = by_kind.get("retry", [])
    if retry and attempt < inbox_setting("PUSH_MAX_ATTEMPTS"):
        backoff = inbox_setting("PUSH_RETRY_BASE_SECONDS") * 2 ** (attempt - 1)
        delay = min(max([backoff] + [o.retry_after or 0 for o in retry]), 3600)
        later = deliver_push.using(run_after=timezone.now() + timedelta(seconds=delay))
        ids = [o.subscription_id for o in retry]
        for start in range(0, len(ids), RETRY_BATCH):  # bounded, for the databases' parameter limits
            later.enqueue(message_id, ids[start : start + RETRY_BATCH], attempt + 1)
    elif retry:
        logger.warning("Giving up pushing message %s to %d subscriptions", message_id, len(retry))
    if failed := by_kind.get("failed"):  # one line per delivery, not one per subscription
        first = failed[0].detail.splitlines()[0] if failed[0].detail else ""
        logger.warning(
            "Push of message %s failed for %d subscriptions; first: %s", message_id, len(failed), first
        )
    return {kind: len(items) for kind, items in by_kind.items()} | {"attempt": attempt}
