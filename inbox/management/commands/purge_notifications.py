"""python manage.py purge_notifications [--read-older-than DAYS] [--dry-run]"""

from __future__ import annotations

import re
from datetime import timedelta

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from inbox.conf import inbox_setting
from inbox.models import Message, Notification

MAX_DAYS = 36500  # a hundred years; the bound keeps "now - DAYS" a date Python can hold


def parse_days(value) -> int:
    """DAYS as given on the command line (text) or to call_command (a number)."""
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,6}", text, re.ASCII) or int(text) > MAX_DAYS:
        raise CommandError(f"--read-older-than must be a whole number of days from 0 to {MAX_DAYS}.")
    return int(text)


class Command(BaseCommand):
    help = (
        "Delete expired notifications and, optionally, read ones older than N days; also push "
        "receipts older than INBOX_PUSH_RECEIPT_DAYS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--read-older-than",
            metavar="DAYS",
            help="Also delete read notifications received more than DAYS days ago.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, read_older_than, dry_run, **options):
        if read_older_than is not None:
            read_older_than = parse_days(read_older_than)
        now = timezone.now()
        # By the row's own copy of its message's expiry, as every list and count reads it (through
        # the partial index inbox_expiring; old read rows take one pass over the table).
        expired = Notification.objects.filter(expires_at__lte=now)
        old_read = Notification.objects.none()
        if read_older_than is not None:
            old_read = Notification.objects.filter(
                read_at__isnull=False, created__lt=now - timedelta(days=read_older_than)
            )
        old_receipts = old_push_receipts(now)
        with transaction.atomic():
            counts = {
                "expired": expired.count(),
                "read": old_read.exclude(expires_at__lte=now).count(),
                "receipts": old_receipts.count(),
            }
            if not dry_run:
                delete_old_realtime_events(now)
                old_receipts.delete()
                old_read.delete()
                expired.delete()
                # Messages nobody holds any more (expired, or every recipient deleted theirs).
                Message.objects.filter(deliveries__isnull=True).delete()
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {counts['expired']} expired and {counts['read']} old read notifications, "
            f"and {counts['receipts']} old push receipts."
        )


def old_push_receipts(now):
    """A receipt only stops a delivery run again from repeating a push; past the lease and the
    retries it is dead weight (record_wave writes one per push that went out). An empty queryset
    without inbox.push."""
    if not apps.is_installed("inbox.push"):
        return Notification.objects.none()
    from inbox.push.models import PushReceipt

    return PushReceipt.objects.filter(sent_at__lt=now - timedelta(days=inbox_setting("PUSH_RECEIPT_DAYS")))


def delete_old_realtime_events(now) -> None:
    """Real-time events every web process has long read (they also prune as they go)."""
    if apps.is_installed("inbox.realtime"):
        from inbox.realtime.models import RealtimeEvent

        minutes = inbox_setting("REALTIME_EVENT_MINUTES")
        RealtimeEvent.objects.filter(created__lt=now - timedelta(minutes=minutes)).delete()
