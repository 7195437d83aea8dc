"""python manage.py sweep_push_subscriptions

End push for the login sessions that ended without a signal: expired or deleted sessions,
users deactivated or whose password changed by QuerySet.update(), subscriptions bound to no
session. `manage.py inbox_worker` runs it every INBOX_PUSH_SWEEP_INTERVAL seconds; this runs it
once (from cron, say, with another task backend)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from inbox.push.sweep import sweep


class Command(BaseCommand):
    help = "Delete the push subscriptions whose login session has ended."

    def handle(self, *args, **options):
        deleted = sweep()
        summary = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in deleted.items())
        self.stdout.write(f"Deleted {sum(deleted.values())} push subscriptions ({summary}).")
