"""Email delivery, run by the Tasks framework after notify() has committed.

The email channel's `queue_email(message)` queues `deliver_email(message_id)`. That first task
plans: it finds the recipients who want this kind by email, have an address that has not bounced
and have not read it yet, mails a small audience itself and splits a large one into tasks of at
most INBOX_MAIL_BATCH_SIZE users, each sent through one SMTP connection. Receipts, written a wave
at a time, make a task that runs again (a retry, or after its worker died) skip who was mailed."""

from __future__ import annotations

import logging
from datetime import timedelta
from itertools import batched

from django.db.models import Exists, F, OuterRef, QuerySet
from django.tasks import task
from django.utils import timezone

from inbox.conf import inbox_setting
from inbox.models import Message, Notification
from inbox.outbox import durable, hand_over, heartbeat, plan
from inbox.preferences import Preference, kind_of, route, wanted

from .addresses import email_field, mailable, record_bounces
from .compose import Item, notification_emails
from .digests import run_digests
from .models import EmailReceipt
from .sender import Outcome, send_batch

logger = logging.getLogger(__name__)


def queue_email(message: Message) -> list[int]:
    """The email channel's hand-over, inside notify()'s transaction (see inbox.delivery): record
    the delivery in the outbox, unless nobody can want this kind by email (most kinds email only
    users who turned it on)."""
    if not might_email(message.kind):
        return []
    return hand_over(deliver_email, message.pk, channel="email", message_id=message.pk)


def might_email(key: str) -> bool:
    """Whether any user may get this kind by email: its default, or someone turned it on (a
    small query on the preferences, none when the default decides)."""
    kind = kind_of(key)
    if wanted(kind, "email") is None:  # locked off
        return False
    return (
        kind.default("email") or Preference.objects.filter(kind=key, channel="email", enabled=True).exists()
    )


def pending(message: Message) -> QuerySet:
    """The message's unread rows whose recipient wants it by email, can be mailed, and has no
    receipt for it yet: one query, however many recipients."""
    rows = Notification.objects.filter(message=message, read_at__isnull=True).order_by()
    receipts = EmailReceipt.objects.filter(message=message, user=OuterRef("recipient_id"))
    return mailable(route(rows, kind_of(message.kind), "email")).filter(~Exists(receipts))


@task
@durable
def deliver_email(message_id: int, user_ids: list[int] | None = None, attempt: int = 1) -> dict:
    """Email one message to its recipients who want it: all of them (`user_ids` None: a large
    audience is split into tasks) or the listed ones. 4xx answers and connection failures are
    queued again with backoff; a 5xx refusing an address records a bounce."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.is_expired():
        return {"skipped": "the message was deleted or has expired"}
    rows = pending(message)
    if user_ids is None:
        user_ids = list(rows.order_by("recipient_id").values_list("recipient_id", flat=True))
        size = inbox_setting("MAIL_BATCH_SIZE")
        if len(user_ids) > size:
            # Every batch in one transaction, which also ends this planning task's hand-over.
            chunks = [[message_id, list(chunk), attempt] for chunk in batched(user_ids, size)]
            plan(deliver_email, chunks, channel="email", message_id=message_id)
            return {"planned": -(-len(user_ids) // size), "users": len(user_ids)}
    # Checked again at send time: a user may have read it, changed their preferences or address.
    targets = list(
        rows.filter(recipient_id__in=user_ids).values(
            "id", "recipient_id", address=F(f"recipient__{email_field()}")
        )
    )
    if not targets:
        return {"sent": 0}
    addresses = {t["recipient_id"]: t["address"] for t in targets}
    item = Item(0, message.text, message.url, message.level, message.kind, message.created)
    emails = notification_emails(item, [(t["recipient_id"], t["address"], t["id"]) for t in targets])

    def after_wave(wave: list[Outcome]) -> None:
        record(message_id, wave, addresses)
        heartbeat()  # a sign of life for recover(); stops here if this run was taken over

    outcomes = send_batch(emails, wave=inbox_setting("MAIL_WAVE_SIZE"), after_wave=after_wave)
    return settle(message_id, outcomes, attempt)


def record(message_id: int, outcomes: list[Outcome], addresses: dict[int, str]) -> None:
    """After each wave: one INSERT of receipts for what went out, one of bounces if any."""
    EmailReceipt.objects.bulk_create(
        [EmailReceipt(message_id=message_id, user_id=o.key) for o in outcomes if o.kind == "sent"],
        ignore_conflicts=True,  # a task run again may have sent some twice
    )
    record_bounces(outcomes, addresses)


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(inbox_setting("MAIL_RETRY_BASE_SECONDS") * 2 ** (attempt - 1), 6 * 3600))


def settle(message_id: int, outcomes: list[Outcome], attempt: int) -> dict:
    """Queue the soft failures again with exponential backoff; say what happened."""
    by_kind: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_kind.setdefault(outcome.kind, []).append(outcome)
    retry, size = by_kind.get("retry", []), inbox_setting("MAIL_BATCH_SIZE")
    if retry and attempt < inbox_setting("MAIL_MAX_ATTEMPTS"):
        chunks = [[message_id, list(chunk), attempt + 1] for chunk in batched([o.key for o in retry], size)]
        plan(
            deliver_email,
            chunks,
            channel="email",
            message_id=message_id,
            run_after=timezone.now() + backoff(attempt),
        )
    elif retry:
        logger.warning(
            "Giving up emailing message %s to %d users after %d attempts; last: %s",
            message_id,
            len(retry),
            attempt,
            retry[0].detail,
        )
    if failed := by_kind.get("failed"):  # one line per delivery, not one per user
        logger.warning(
            "Email of message %s failed for %d users; first: %s", message_id, len(failed), failed[0].detail
        )
    return {kind: len(items) for kind, items in by_kind.items()} | {"attempt": attempt}


@task
def send_due_digests() -> dict:
    """The digest run `manage.py inbox_worker` queues every INBOX_DIGEST_INTERVAL seconds."""
    return run_digests()
