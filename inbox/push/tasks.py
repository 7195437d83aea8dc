"""Push delivery, run by the Tasks framework after notify() has committed.

The push channel's `queue_push(message)` queues `deliver_push(message_id)`. That first task
plans: it sends to a small audience itself and splits a large one into tasks of at most
INBOX_PUSH_BATCH_SIZE subscriptions, so every task's run time is bounded. A task sends its
pushes as a stream, INBOX_PUSH_CONCURRENCY in flight, and records a receipt for each push that
went out every half wave of answers while the others go on, so if its worker dies the task can
run again and skip what was already sent: it repeats at most a wave (INBOX_PUSH_WAVE_SIZE: no
push starts while that many are out without a receipt). Delivery is at
least once: a repeat is harmless because the service worker uses the notification's id as the
OS notification's tag."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from functools import lru_cache
from itertools import batched

from django.db.models import Count, F
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from webpush.models import SubscriptionInfo

from inbox.conf import inbox_setting
from inbox.models import Message, Notification
from inbox.outbox import durable, hand_over, heartbeat, plan
from inbox.preferences import kind_of, route

from .keys import push_configured
from .models import PushReceipt
from .sender import URGENCY, PushJob, encode_payload, stream_pushes
from .sweep import live_session_keys, sweep
from .tokens import read_token, read_token_signer

logger = logging.getLogger(__name__)


# Push services refuse a body over 4,096 bytes. aes128gcm adds an 86-byte header (salt, record
# size, sender key), a 1-byte padding delimiter and a 16-byte tag around the plaintext.
PUSH_MAX_BYTES = 4096


PAYLOAD_MAX_BYTES = PUSH_MAX_BYTES - 86 - 1 - 16


ELLIPSIS = "…"


def queue_push(message: Message) -> list[int]:
    """The push channel's hand-over, inside notify()'s transaction (see inbox.delivery): record
    the delivery in the outbox, if VAPID is set up."""
    if not push_configured():
        return []
    return hand_over(deliver_push, message.pk, channel="push", message_id=message.pk)


@task
@durable
def deliver_push(message_id: int, subscription_ids: list[int] | None = None, attempt: int = 1) -> dict:
    """Push one message to the browsers its unread recipients subscribed: all of them
    (`subscription_ids` None: a large audience is split into tasks) or the listed ones.
    Soft failures (429, 5xx, network) are queued again with backoff, gone subscriptions are
    removed, and a subscription with a receipt for this message is skipped."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.is_expired():
        return {"skipped": "the message was deleted or has expired"}
    if subscription_ids is None:
        subscription_ids = audience(message)
        size = inbox_setting("PUSH_BATCH_SIZE")
        if len(subscription_ids) > size:
            # Every batch in one transaction, which also ends this planning task's hand-over.
            chunks = [[message_id, list(chunk), attempt] for chunk in batched(subscription_ids, size)]
            plan(deliver_push, chunks, channel="push", message_id=message_id)
            return {"planned": -(-len(subscription_ids) // size), "subscriptions": len(subscription_ids)}
    sent_before = set(
        PushReceipt.objects.filter(message=message, subscription_id__in=subscription_ids).values_list(
            "subscription_id", flat=True
        )
    )
    pending = [pk for pk in subscription_ids if pk not in sent_before]
    if not pending:
        return {"sent": 0} | ({"already_sent": len(sent_before)} if sent_before else {})

    # One filter() call, so the conditions and the values below share one join.
    subscribed = Notification.objects.filter(
        message=message,
        read_at__isnull=True,
        recipient__is_active=True,  # a deactivated user's subscriptions are the sweep's to delete
        recipient__webpush_info__isnull=False,
        recipient__webpush_info__subscription_id__in=pending,
    )
    targets = subscribed.values(
        "id",
        "recipient_id",
        sub_id=F("recipient__webpush_info__subscription_id"),
        endpoint=F("recipient__webpush_info__subscription__endpoint"),
        p256dh=F("recipient__webpush_info__subscription__p256dh"),
        auth=F("recipient__webpush_info__subscription__auth"),
        session_key=F("recipient__webpush_info__subscription__inbox_session__session_key"),
    )
    targets = list(targets)
    # Not to a browser whose session has ended since (the sweep deletes its subscription later):
    # one more query, only when the targets are bound to sessions.
    if bound := {t["session_key"] for t in targets if t["session_key"] is not None}:
        live = live_session_keys(bound)
        targets = [t for t in targets if t["session_key"] is None or t["session_key"] in live]
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
    payload_of = payloads(message)
    jobs = [
        PushJob(
            subscription_id=t["sub_id"],
            endpoint=t["endpoint"],
            p256dh=t["p256dh"],
            auth=t["auth"],
            payload=fit_payload(payload_of(t["id"], unread.get(t["recipient_id"], 0))),
        )
        for t in targets
    ]
    ttl, urgency = (
        time_to_live(message),
        kind_of(message.kind).push_urgency or URGENCY.get(message.level, "normal"),
    )
    outcomes = []
    # The pushes keep going while a wave's receipts are written; see stream_pushes for the bound.
    waves = stream_pushes(jobs, ttl=ttl, urgency=urgency, wave=inbox_setting("PUSH_WAVE_SIZE"))
    with closing(waves):  # an exception here (LeaseLost too) stops the pushes still out
        for done in waves:
            record_wave(message_id, done)
            heartbeat()  # a sign of life for recover(); stops here if this run was taken over
            outcomes += done
    result = settle(message_id, outcomes, attempt)
    return result | ({"already_sent": len(sent_before)} if sent_before else {})


@task
def sweep_push_subscriptions() -> dict:
    """Queued periodically by `manage.py inbox_worker`: end push for the sessions that ended
    without a signal (see inbox.push.sweep)."""
    return sweep()


def audience(message: Message) -> list[int]:
    """The subscription ids of the message's unread recipients who want its kind by push (one
    query: the preferences are a NOT EXISTS / EXISTS clause), in a stable order."""
    rows = Notification.objects.filter(
        message=message, read_at__isnull=True, recipient__webpush_info__isnull=False
    )
    return list(
        route(rows, kind_of(message.kind), "push")
        .order_by("recipient__webpush_info__subscription_id")
        .values_list("recipient__webpush_info__subscription_id", flat=True)
    )


def record_wave(message_id: int, outcomes) -> None:
    """After each wave of answers: one INSERT of receipts for what went out, one DELETE of what
    is gone."""
    now = timezone.now()
    PushReceipt.objects.bulk_create(
        [
            PushReceipt(message_id=message_id, subscription_id=o.subscription_id, sent_at=now)
            for o in outcomes
            if o.kind == "sent"
        ],
        ignore_conflicts=True,  # a task run again may have sent some twice
    )
    if gone := [o.subscription_id for o in outcomes if o.kind == "gone"]:
        SubscriptionInfo.objects.filter(pk__in=gone).delete()


def payload(message: Message, notification_id: int, unread: int) -> dict:
    return payloads(message)(notification_id, unread)


def payloads(message: Message) -> Callable[[int, int], dict]:
    """payload(message, notification_id, unread) for many notifications of one message: what
    they share is worked out once."""
    title = "Inbox" if message.level == "info" else f"Inbox · {message.get_level_display()}"
    url = message.url or reverse("inbox:index")
    signer = read_token_signer()

    def payload_of(notification_id: int, unread: int) -> dict:
        return {
            "title": title,
            "body": message.text,
            "url": url,
            "id": notification_id,
            "level": message.level,
            "unread": unread,
            "read_token": read_token(notification_id, signer),
        }

    return payload_of


def fit_payload(data: dict, limit: int = PAYLOAD_MAX_BYTES) -> dict:
    """`data` with its body (then, if need be, its title) cut short with an ellipsis, so that
    it encrypts to a push a push service accepts; every other field is kept whole."""
    size = len(encode_payload(data))
    for field in ("body", "title"):
        if size <= limit:
            break
        text = data[field]
        room = limit - (size - len(encode_payload(text)))  # bytes left for this field's JSON
        data = data | {field: shorten(text, room)}
        size = len(encode_payload(data))
    return data


@lru_cache(maxsize=64)  # one message, many recipients: the same text is cut many times
def shorten(text: str, room: int) -> str:
    """The longest prefix of `text`, plus an ellipsis, whose JSON string takes at most `room`
    bytes; never cut inside a character or in front of a mark or joiner that belongs to it."""
    low, high = 0, len(text)
    while low < high:  # binary search on the number of characters kept
        middle = (low + high + 1) // 2
        if len(encode_payload(text[:middle] + ELLIPSIS)) <= room:
            low = middle
        else:
            high = middle - 1
    while 0 < low < len(text) and (joins(text[low]) or text[low - 1] == "\u200d"):
        low -= 1
    return text[:low].rstrip() + ELLIPSIS


def joins(char: str) -> bool:
    """A code point that belongs to the character before it: a combining mark, a zero-width
    joiner, a variation selector, an emoji skin tone or tag."""
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char in "\u200d\ufe0e\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or "\U000e0020" <= char <= "\U000e007f"
    )


def time_to_live(message: Message) -> int:
    """The push service may hold it this long: never past the message's expiry."""
    ttl = inbox_setting("PUSH_TTL")
    if message.expires_at:
        ttl = min(ttl, int((message.expires_at - timezone.now()).total_seconds()))
    return max(ttl, 0)


def settle(message_id: int, outcomes, attempt: int) -> dict:
    """Queue the soft failures again with exponential backoff, in bounded tasks."""
    by_kind: dict[str, list] = {}
    for outcome in outcomes:
        by_kind.setdefault(outcome.kind, []).append(outcome)
    retry = by_kind.get("retry", [])
    if retry and attempt < inbox_setting("PUSH_MAX_ATTEMPTS"):
        backoff = inbox_setting("PUSH_RETRY_BASE_SECONDS") * 2 ** (attempt - 1)
        delay = min(max([backoff] + [o.retry_after or 0 for o in retry]), 3600)
        chunks = [
            [message_id, list(chunk), attempt + 1]
            for chunk in batched([o.subscription_id for o in retry], inbox_setting("PUSH_BATCH_SIZE"))
        ]
        later = timezone.now() + timedelta(seconds=delay)
        plan(deliver_push, chunks, channel="push", message_id=message_id, run_after=later)
    elif retry:
        logger.warning("Giving up pushing message %s to %d subscriptions", message_id, len(retry))
    if failed := by_kind.get("failed"):  # one line per delivery, not one per subscription
        first = failed[0].detail.splitlines()[0] if failed[0].detail else ""
        logger.warning(
            "Push of message %s failed for %d subscriptions; first: %s", message_id, len(failed), first
        )
    return {kind: len(items) for kind, items in by_kind.items()} | {"attempt": attempt}
