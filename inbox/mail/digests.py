"""Email digests: each due user's unread notifications since their last digest, grouped by kind,
newest first, capped at INBOX_DIGEST_MAX_ITEMS with "and N more".

A run takes the due users (next_due_at <= now) a batch at a time. Each batch is claimed under a
lease of its own: one statement gives the rows a fresh token and `leased_until`, counted from that
moment (INBOX_TASK_LEASE_SECONDS), so a second run, from cron or another worker, takes other
users, and takes these only once the lease has passed. Then one query collects every user's items
(a window function numbers each user's rows and counts them), two check which rows are still
this batch's and which slots were already mailed, one connection sends the emails, with a
DigestReceipt per user and slot written after each wave, and one UPDATE writes back: it lands only
on rows whose token is still this batch's, moves a cursor only forward and sets the next due time
only where the schedule is still the one claimed (a user who changed it meanwhile keeps theirs).
The number of queries per batch does not depend on its size. A user with nothing new gets no
email and keeps their cursor. A worker that dies, or outlasts its lease, leaves the batch to the
next run: the receipts keep everyone mailed from being mailed again, so at most the emails in
flight at that moment go twice; nobody is skipped."""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from inbox import kinds
from inbox.conf import inbox_setting
from inbox.models import Notification
from inbox.preferences import DigestSetting, Preference, wanted
from inbox.workers import stop_errors

from .addresses import email_field, record_bounces
from .compose import Digests, Item
from .models import DigestReceipt, EmailBounce, EmailReceipt
from .sender import Outcome, send_batch

__all__ = ["run_digests"]

logger = logging.getLogger(__name__)


@dataclass
class Batch:
    """Due settings claimed together under one lease. `slots[pk]` is each row's next_due_at as
    claimed: the digest's period (its receipt's key) and, for the write-back, the sign that the
    user has not changed their schedule since (the preferences form always moves it)."""

    token: uuid.UUID
    settings: list[DigestSetting]
    slots: dict[int, datetime]


def run_digests(now: datetime | None = None) -> dict:
    """Send every digest due at `now`; safe to run twice, or from two processes at once.
    Returns counts: sent, nothing_new, no_address, bounced, retry, failed, already_sent (a receipt
    says this slot's digest went out), taken_over (another run holds the lease now), batches, and
    batches_failed (a batch that raised: logged, left under its lease for a later run; the run
    goes on with the next batch)."""
    now = now or timezone.now()
    totals: Counter[str] = Counter()
    while batch := claim(now, inbox_setting("DIGEST_BATCH_SIZE")):
        try:
            totals.update(send_digests(batch, now))
        except stop_errors():  # the task backend ends the run (RQ's timeout)
            raise
        except Exception:  # one bad batch must not hold up every batch after it
            logger.exception(
                "A digest batch of %d users failed; a later run takes it again when its lease ends",
                len(batch.settings),
            )
            totals["batches_failed"] += 1
            continue
        totals["batches"] += 1
    return dict(totals)


def claim(now: datetime, size: int) -> Batch | None:
    """Up to `size` settings due at `now` and not leased to another run, with their user, taken
    under a new token for INBOX_TASK_LEASE_SECONDS from this moment (not from the run's start: a
    long run's later batches get the whole lease too). Rows another transaction has locked are
    skipped on PostgreSQL; SQLite runs one writing transaction at a time."""
    clock = timezone.now()
    bounced = EmailBounce.objects.filter(user=OuterRef("user_id"), address=OuterRef(f"user__{email_field()}"))
    due = (
        DigestSetting.objects.filter(next_due_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=clock))
        .exclude(frequency=DigestSetting.Frequency.OFF)
        .select_related("user")
        .annotate(bounced=Exists(bounced))
        .order_by("next_due_at", "id")
    )
    token = uuid.uuid4()
    with transaction.atomic():
        settings = list(due.select_for_update(skip_locked=True, of=("self",))[:size])
        if not settings:
            return None
        leased_until = timezone.now() + timedelta(seconds=inbox_setting("TASK_LEASE_SECONDS"))
        DigestSetting.objects.filter(pk__in=[s.pk for s in settings]).update(
            lease_token=token, leased_until=leased_until
        )
    return Batch(token, settings, {s.pk: s.next_due_at for s in settings})


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


def send_digests(batch: Batch, now: datetime) -> Counter[str]:
    """One batch: collect, keep the rows still this batch's and not yet mailed for their slot,
    send through one connection (receipts after each wave), then write back."""
    counts: Counter[str] = Counter()
    settings = batch.settings
    found = collect([s.user_id for s in settings], now)
    held, turned_off, receipts = still_held(batch)
    field = email_field()
    emails, addresses, newest = [], {}, {}
    digests = Digests()
    for setting in settings:
        items, total = found.get(setting.user_id, ([], 0))
        address = getattr(setting.user, field) or ""
        if setting.pk not in held:
            counts["taken_over"] += 1
        elif setting.pk in turned_off:
            counts["turned_off"] += 1
        elif setting.user_id in receipts:
            counts["already_sent"] += 1
        elif not items:
            counts["nothing_new"] += 1
        elif not address:
            counts["no_address"] += 1
        elif setting.bounced:
            counts["bounced"] += 1
        elif email := one_digest(digests, setting, address, items, total):
            emails.append((setting.user_id, email))
            addresses[setting.user_id] = address
            newest[setting.user_id] = items[0]
        else:  # its items stay after the cursor, for the next digest
            counts["failed"] += 1
    slot_of = {s.user_id: batch.slots[s.pk] for s in settings}
    recorded: dict[int, DigestReceipt] = {}

    def after_wave(outcomes: list[Outcome]) -> None:
        # At once, not at the write-back: a run that takes this batch over skips who is recorded.
        wave = {
            o.key: DigestReceipt(
                user_id=o.key,
                due_at=slot_of[o.key],
                cursor_created=newest[o.key].created,
                cursor_id=newest[o.key].notification_id,
                sent_at=now,
            )
            for o in outcomes
            if o.kind == "sent"
        }
        DigestReceipt.objects.bulk_create(wave.values(), ignore_conflicts=True)  # a batch sent again
        recorded.update(wave)
        record_bounces(outcomes, addresses)

    outcomes = send_batch(emails, wave=inbox_setting("MAIL_WAVE_SIZE"), after_wave=after_wave)
    counts.update(o.kind for o in outcomes)
    retry = {o.key for o in outcomes if o.kind == "retry"}
    landed = write_back(batch, now, receipts | recorded, retry)
    if recorded:
        forget_older(list(recorded))
    if lost := len(held) - landed:
        logger.warning("A digest batch outlasted its lease: another run took %d of its users", lost)
        counts["taken_over"] += lost
    return counts


def one_digest(
    digests: Digests, setting: DigestSetting, address: str, items: list[Item], total: int
) -> EmailMessage | None:
    """One user's digest email, or None if making it raised (a template error on one item's
    data, say): logged, and that user alone is skipped this time."""
    try:
        return digests.email(setting.user_id, address, items, total)
    except stop_errors():
        raise
    except Exception:
        logger.exception("The digest of user %s could not be made; skipped this time", setting.user_id)
        return None


def still_held(batch: Batch) -> tuple[set[int], set[int], dict[int, DigestReceipt]]:
    """The batch's rows whose lease is still its own, those of them whose user turned the digest
    off since the claim, and the receipts of digests already sent for the slots claimed (by an
    earlier run that died, or that lost this lease): two queries."""
    rows = DigestSetting.objects.filter(pk__in=list(batch.slots), lease_token=batch.token)
    frequencies = dict(rows.values_list("pk", "frequency"))
    turned_off = {pk for pk, frequency in frequencies.items() if frequency == DigestSetting.Frequency.OFF}
    slots = {s.user_id: batch.slots[s.pk] for s in batch.settings if s.pk in frequencies}
    receipts = {
        r.user_id: r
        for r in DigestReceipt.objects.filter(user_id__in=list(slots), due_at__in=set(slots.values()))
        if slots.get(r.user_id) == r.due_at
    }
    return set(frequencies), turned_off, receipts


def forget_older(user_ids: list[int]) -> None:
    """Keep one receipt per user, their last digest's: an older slot is settled (its cursor was
    written back, or a later digest's was), so its receipt guards nothing. One DELETE."""
    newer = DigestReceipt.objects.filter(user=OuterRef("user_id"), due_at__gt=OuterRef("due_at"))
    DigestReceipt.objects.filter(user_id__in=user_ids).filter(Exists(newer)).delete()


def write_back(batch: Batch, now: datetime, sent: dict[int, DigestReceipt], retry: set[int]) -> int:
    """One UPDATE, only on the rows whose lease is still this batch's (a run that lost its lease
    changes nothing): it releases the lease, moves the cursor of the users mailed forward (never
    back) with their last_sent_at, and sets the next due time (the next run's, for a 4xx) where
    next_due_at is still the slot claimed: a user who saved their schedule meanwhile keeps the
    next due time it gave. Returns the number of rows it landed on."""
    retry_at = now + timedelta(seconds=inbox_setting("DIGEST_INTERVAL"))
    due, created, cursor_id, sent_at = [], [], [], []
    for setting in batch.settings:
        pk, slot = setting.pk, batch.slots[setting.pk]
        next_due = retry_at if setting.user_id in retry else setting.next_due(now)
        due.append(When(pk=pk, next_due_at=slot, then=Value(next_due, DateTimeField())))
        if (receipt := sent.get(setting.user_id)) is not None:
            c, i = receipt.cursor_created, receipt.cursor_id
            ahead = Q(pk=pk) & (
                Q(last_cursor_created__isnull=True)
                | Q(last_cursor_created__lt=c)
                | Q(last_cursor_created=c, last_cursor_id__lt=i)
            )
            # Both columns test the row as it was (SQL evaluates every SET against the old row).
            created.append(When(ahead, then=Value(c, DateTimeField())))
            cursor_id.append(When(ahead, then=Value(i, BigIntegerField())))
            sent_at.append(When(pk=pk, then=Value(receipt.sent_at, DateTimeField())))
    changes = {"lease_token": None, "leased_until": None, "next_due_at": Case(*due, default=F("next_due_at"))}
    if created:
        changes |= {
            "last_cursor_created": Case(*created, default=F("last_cursor_created")),
            "last_cursor_id": Case(*cursor_id, default=F("last_cursor_id")),
            "last_sent_at": Case(*sent_at, default=F("last_sent_at")),
        }
    return DigestSetting.objects.filter(pk__in=list(batch.slots), lease_token=batch.token).update(**changes)


def upcoming(setting: DigestSetting, now: datetime | None = None) -> tuple[datetime, int] | None:
    """A digest's next time (UTC; the run that sends it starts then or soon after, a past time
    meaning the next run) and how many notifications it would hold were it sent now (one query);
    None while it is off. For the preferences page."""
    if setting.pk is None or setting.frequency == DigestSetting.Frequency.OFF or setting.next_due_at is None:
        return None
    _items, total = collect([setting.user_id], now or timezone.now()).get(setting.user_id, ([], 0))
    return setting.next_due_at, total
