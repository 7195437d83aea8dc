"""python manage.py inbox_worker [db_worker's options]

django-tasks-db's `db_worker`, plus recovery of deliveries whose worker died: a delivery task
still RUNNING INBOX_TASK_LEASE_SECONDS after it started is marked failed ("abandoned") and
queued again with the same arguments. The recovery runs when the worker starts and then every
half lease in a background thread (not with --batch, which runs what is queued and exits).
Several workers may run at once; each abandoned task is queued again once.

With "inbox.mail" in INBOX_CHANNELS it also queues the email digest run when it starts and then
every INBOX_DIGEST_INTERVAL seconds (no cron needed; the run is idempotent, so several workers,
or a cron job calling `manage.py send_digests` as well, never send a digest twice).

With "inbox.push" in INBOX_CHANNELS it queues the push sweep the same way, every
INBOX_PUSH_SWEEP_INTERVAL seconds: push ends for sessions that ended without a signal (expired,
deleted, a password or is_active changed by QuerySet.update()). See inbox.push.sweep.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.conf import settings
from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from inbox.conf import inbox_setting
from inbox.push.recovery import recover_abandoned_tasks

logger = logging.getLogger("inbox.push.recovery")


def recover() -> None:
    try:
        recover_abandoned_tasks()
    except Exception:  # a database hiccup must not stop the worker; the next pass tries again
        logger.exception("Recovering abandoned tasks failed")
    finally:
        connections.close_all()  # this thread's connections only


def keep_recovering(every: float) -> None:
    while True:
        time.sleep(every)
        recover()


def queue_digests() -> None:
    from inbox.mail.tasks import send_due_digests

    try:
        send_due_digests.enqueue()
    except Exception:  # a database hiccup must not stop the worker; the next interval tries again
        logger.exception("Queueing the digest run failed")
    finally:
        connections.close_all()  # this thread's connections only


def keep_queueing_digests(every: float) -> None:
    while True:
        queue_digests()
        time.sleep(every)


def queue_push_sweep() -> None:
    from inbox.push.tasks import sweep_push_subscriptions

    try:
        sweep_push_subscriptions.enqueue()
    except Exception:  # a database hiccup must not stop the worker; the next interval tries again
        logger.exception("Queueing the push sweep failed")
    finally:
        connections.close_all()  # this thread's connections only


def keep_queueing_push_sweeps(every: float) -> None:
    while True:
        queue_push_sweep()
        time.sleep(every)


def realtime_route() -> str:
    """How the real-time events this worker sends reach the web processes' sockets. Said at the
    start: a process that sends through another transport than the web processes read (no
    REDIS_URL here, Redis there) delivers nothing live, and nothing fails to say so."""
    from inbox.realtime.transport import transport

    if transport() == "layer":
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]  # the URL may hold a password
        return (
            f"Real-time events go through the channel layer ({backend}): the web processes must "
            "use the same one (the same REDIS_URL)."
        )
    return (
        "Real-time events go through the database (no REDIS_URL): web processes that use Redis "
        "will not see them; give every process the same REDIS_URL."
    )


class Command(db_worker.Command):
    help = "Run the task worker, queueing again the deliveries of workers that died."

    def handle(self, *args, **options):
        # With --reload, the process that runs tasks is the reloader's child; the parent only watches.
        runs_tasks = (
            not options["reload"] or options["batch"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        )
        if runs_tasks:
            if "inbox.realtime" in inbox_setting("CHANNELS") and options["verbosity"] >= 1:
                self.stdout.write(realtime_route())
            recover()
            if not options["batch"]:
                every = max(inbox_setting("TASK_LEASE_SECONDS") / 2, 1)
                threading.Thread(
                    target=keep_recovering, args=(every,), name="inbox-recovery", daemon=True
                ).start()
            if "inbox.mail" in inbox_setting("CHANNELS"):
                every = max(inbox_setting("DIGEST_INTERVAL"), 1)
                if options["batch"]:
                    queue_digests()  # once: --batch runs what is queued and exits
                else:
                    threading.Thread(
                        target=keep_queueing_digests, args=(every,), name="inbox-digests", daemon=True
                    ).start()
            if "inbox.push" in inbox_setting("CHANNELS"):
                every = max(inbox_setting("PUSH_SWEEP_INTERVAL"), 1)
                if options["batch"]:
                    queue_push_sweep()
                else:
                    threading.Thread(
                        target=keep_queueing_push_sweeps, args=(every,), name="inbox-push-sweep", daemon=True
                    ).start()
        return super().handle(*args, **options)
