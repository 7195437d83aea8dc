"""Email digests: each due user's unread notifications since their last digest, grouped by kind,
newest first, capped at INBOX_DIGEST_MAX_ITEMS with "and N more".

A run takes the due users (next_due_at <= now) a batch at a time. For each batch: one statement
claims the rows (their next_due_at moves a lease ahead, so a second run, from cron or another
worker, takes other users), one query collects every user's items (a window function numbers
each user's rows and counts them), one SMTP connection sends the emails, and one transaction
advances the cursors of the users mailed, with their last_sent_at and next due time. The number
of queries per batch does not depend on its size. A user with nothing new gets no email and
keeps their cursor. A worker that dies between sending and that transaction leaves the claim to
expire (INBOX_TASK_LEASE_SECONDS): the batch is sent again, never skipped."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from inbox import kinds
from inbox.conf import inbox_setting
from inbox.models import Notification
from inbox.preferences import DigestSetting, Preference, wanted

from .compose import Digests, Item
from .models import EmailBounce, EmailReceipt
from .sender import send_batch
from .tasks import email_field, record_bounces

__all__ = ["run_digests"]


def run_digests(now: datetime | None = None) -> dict:
    """Send every digest due at `now`; safe to run twice, or from two processes at once.
    Returns counts: sent, nothing_new, no_address, bounced, retry, failed, batches."""
    now = now or timezone.now()
    totals: Counter[str] = Counter()
    while settings := claim(now, inbox_setting("DIGEST_BATCH_SIZE")):
        totals.update(send_digests(settings, now))
        totals["batches"] += 1
    return dict(totals)


def claim(now: datetime, size: int) -> list[DigestSetting]:
    """Up to `size` due settings, with their user, taken for this run: their next_due_at moves a
    lease ahead in the same transaction (rows another run has locked are skipped, on PostgreSQL;
    SQLite runs one writing transaction at a time)."""
    lease = timedelta(seconds=inbox_setting("TASK_LEASE_SECONDS"))
    bounced = EmailBounce.objects.filter(user=OuterRef("user_id"), address=OuterRef(f"user__{email_field()}"))
    due = (
        DigestSetting.objects.filter(next_due_at__lte=now)
        .exclude(frequency=DigestSetting.Frequency.OFF)
        .select_related("user")
        .annotate(bounced=Exists(bounced))
        .order_by("next_due_at", "id")
    )
    with transaction.atomic():
        settings = list(due.select_for_update(skip_locked=True, of=("self",))[:size])
        if settings:
            DigestSetting.objects.filter(pk__in=[s.pk for s in settings]).update(next_due_at=now + lease)
    return settings


def digest_kinds() -> Q:
    """The condition, on Notification rows, that keeps the kinds each recipient wants in digests:
    one clause per registered kind (its routing clause), plus kinds no longer registered, which
    keep the default (on) unless the user turned them off."""
    condition = Q(pk__in=[])
    keys = []
    for kind in kinds.all():
        keys.append(kind.key)
        if (wants := wanted(kind, "digest")) is not None:
            condition |= Q(message__kind=kind.key) & wants
    turned_off = Preference.objects.filter(
        user=OuterRef("recipient_id"), kind=OuterRef("message__kind"), channel="digest", enabled=False
    )
    return condition | (~Q(message__kind__in=keys) & ~Exists(turned_off))


def collect(user_ids: list[int], now: datetime) -> dict[int, tuple[list[Item], int]]:
    """For each user: their newest unread, visible items after their cursor whose kind they want
    in digests and that no email already carried (at most INBOX_DIGEST_MAX_ITEMS), and how many
    there are in all. One query for the whole batch."""
    setting = DigestSetting.objects.filter(user=OuterRef("recipient_id"))
    settled = now - timedelta(seconds=inbox_setting("DIGEST_SETTLE_SECONDS"))
    emailed = EmailReceipt.objects.filter(message=OuterRef("message_id"), user=OuterRef("recipient_id"))
    rows = (
        Notification.objects.filter(recipient_id__in=user_ids, read_at__isnull=True, created__lte=settled)
        .visible(now)
        .annotate(
            cursor_created=Subquery(setting.values("last_cursor_created")[:1]),
            cursor_id=Subquery(setting.values("last_cursor_id")[:1]),
        )
        .filter(
            Q(cursor_created__isnull=True)
            | Q(created__gt=F("cursor_created"))
            | Q(created=F("cursor_created"), id__gt=F("cursor_id"))
        )
        .filter(digest_kinds())
        .filter(~Exists(emailed))
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("recipient_id")], order_by=[F("created").desc(), F("id").desc()]
            ),
            total=Window(Count("id"), partition_by=[F("recipient_id")]),
        )
        .filter(position__lte=inbox_setting("DIGEST_MAX_ITEMS"))
        .order_by("recipient_id", "position")
        .values_list(
            "recipient_id",
            "id",
            "message__text",
            "message__url",
            "message__level",
            "message__kind",
            "created",
            "total",
        )
    )
    found: dict[int, tuple[list[Item], int]] = defaultdict(lambda: ([], 0))
    for user_id, pk, text, url, level, kind, created, total in rows:
        items, _ = found[user_id]
        items.append(Item(pk, text, url, level, kind, created))
        found[user_id] = (items, total)
    return found


def send_digests(settings: list[DigestSetting], now: datetime) -> Counter[str]:
    """One batch: collect, send through one connection, then advance the cursors of the users
    mailed and schedule everyone's next digest, in one transaction."""
    counts: Counter[str] = Counter()
    found = collect([s.user_id for s in settings], now)
    field = email_field()
    emails, addresses, newest = [], {}, {}
    digests = Digests()
    for setting in settings:
        items, total = found.get(setting.user_id, ([], 0))
        address = getattr(setting.user, field) or ""
        if not items:
            counts["nothing_new"] += 1
        elif not address:
            counts["no_address"] += 1
        elif setting.bounced:
            counts["bounced"] += 1
        else:
            emails.append((setting.user_id, digests.email(setting.user_id, address, items, total)))
            addresses[setting.user_id] = address
            newest[setting.user_id] = items[0]
    outcomes = {o.key: o for o in send_batch(emails)}
    retry_at = now + timedelta(seconds=inbox_setting("DIGEST_INTERVAL"))
    for setting in settings:
        outcome = outcomes.get(setting.user_id)
        if outcome is not None:
            counts[outcome.kind] += 1
        if outcome is not None and outcome.kind == "retry":
            setting.next_due_at = retry_at  # the server said "later": the next run tries again
            continue
        if outcome is not None and outcome.kind == "sent":
            item = newest[setting.user_id]
            setting.last_cursor_created, setting.last_cursor_id = item.created, item.notification_id
            setting.last_sent_at = now
        setting.schedule(now)
    with transaction.atomic():
        DigestSetting.objects.bulk_update(
            settings, ["next_due_at", "last_cursor_created", "last_cursor_id", "last_sent_at"]
        )
        record_bounces(list(outcomes.values()), addresses)
    return counts


def upcoming(setting: DigestSetting, now: datetime | None = None) -> tuple[datetime, int] | None:
    """A digest's next time (UTC; the run that sends it starts then or soon after, a past time
    meaning the next run) and how many notifications it would hold were it sent now (one query);
    None while it is off. For the preferences page."""
    if setting.pk is None or setting.frequency == DigestSetting.Frequency.OFF or setting.next_due_at is None:
        return None
    _items, total = collect([setting.user_id], now or timezone.now()).get(setting.user_id, ([], 0))
    return setting.next_due_at, total
