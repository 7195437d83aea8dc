"""python manage.py purge_notifications [--read-older-than DAYS] [--dry-run]"""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from inbox import purges
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
        "Delete expired notifications and, optionally, read ones older than N days; also what the "
        "installed apps keep for a while (push receipts older than INBOX_PUSH_RECEIPT_DAYS, "
        "real-time events older than INBOX_REALTIME_EVENT_MINUTES)."
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
        others = [(purge.what, purge.rows(now)) for purge in purges.registered()]
        with transaction.atomic():
            expired_count = expired.count()
            old_read_count = old_read.exclude(expires_at__lte=now).count()
            other_counts = [(what, rows.count()) for what, rows in others]
            if not dry_run:
                for _, rows in others:
                    rows.delete()
                old_read.delete()
                expired.delete()
                # Messages nobody holds any more (expired, or every recipient deleted theirs).
                Message.objects.filter(deliveries__isnull=True).delete()
        verb = "Would delete" if dry_run else "Deleted"
        report = f"{verb} {expired_count} expired and {old_read_count} old read notifications"
        if other_counts:
            report += "; " + ", ".join(f"{count} {what}" for what, count in other_counts)
        self.stdout.write(report + ".")
