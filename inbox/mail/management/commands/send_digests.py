"""python manage.py send_digests

Send every email digest that is due now, then exit: for a cron job, when the task worker
(`manage.py inbox_worker`, which also runs the digests every INBOX_DIGEST_INTERVAL seconds) is
not the one running them. Safe to run twice, or beside the worker: each digest goes out once.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inbox.mail.digests import run_digests


class Command(BaseCommand):
    help = "Send the email digests that are due (idempotent: safe from cron beside the worker)."

    def handle(self, *args, **options):
        counts = run_digests()
        sent = counts.get("sent", 0)
        details = ", ".join(
            f"{n} {name.replace('_', ' ')}" for name, n in sorted(counts.items()) if name != "sent"
        )
        said = f"Sent {sent} digest{'' if sent == 1 else 's'}" + (f" ({details})." if details else ".")
        if counts.get("retry") or counts.get("failed"):
            raise CommandError(
                f"{said} The mail server did not take them all: the next run tries those again."
            )
        self.stdout.write(said)
