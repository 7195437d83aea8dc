"""python manage.py inbox_relay [--once]

Enqueue the delivery hand-overs that are due (see inbox.outbox), and put back those of workers
that died. `manage.py inbox_worker` does it itself; run this beside any other worker (an RQ
worker, say): as a process of its own (it loops every INBOX_RELAY_INTERVAL seconds), or with
--once from cron. Several may run at once: each row is enqueued once.
"""

from __future__ import annotations

from contextlib import suppress

from django.core.management.base import BaseCommand

from inbox.outbox.loop import keep_relaying, relay_once


class Command(BaseCommand):
    help = "Enqueue the due delivery hand-overs through the task backend, every INBOX_RELAY_INTERVAL seconds."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")

    def handle(self, *args, once: bool = False, **options):
        if once:
            enqueued = relay_once()
            if options["verbosity"]:
                self.stdout.write(f"Enqueued {enqueued} deliver{'y' if enqueued == 1 else 'ies'}.")
            return
        with suppress(KeyboardInterrupt):  # Ctrl-C ends it quietly
            keep_relaying()
