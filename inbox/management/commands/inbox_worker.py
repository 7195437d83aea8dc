"""python manage.py inbox_worker [db_worker's options]

django-tasks-db's `db_worker`, plus the delivery relay (inbox.outbox): the deliveries recorded
with each notification (push, email, their batches and retries) are enqueued from the outbox
when they are due and were not at their commit (an enqueue that failed, a process killed right
after COMMIT, a retry whose backoff has passed), and a delivery still RUNNING
INBOX_TASK_LEASE_SECONDS after it started (its worker died) is put back to run again. The relay
runs when the worker starts and then every INBOX_RELAY_INTERVAL seconds in a background thread
(with --batch: once, before the queued tasks run). A delivery that fails is logged here, retried
with backoff, and after INBOX_DELIVERY_MAX_ATTEMPTS recorded as failed (see the admin's
"Delivery hand-overs"). Several workers may run at once; each row is enqueued once.

With "inbox.mail" in INSTALLED_APPS it also queues the email digest run when it starts and then
every INBOX_DIGEST_INTERVAL seconds (no cron needed; the run is idempotent, so several workers,
or a cron job calling `manage.py send_digests` as well, never send a digest twice).

With "inbox.push" in INSTALLED_APPS it queues the push sweep the same way, every
INBOX_PUSH_SWEEP_INTERVAL seconds: push ends for sessions that ended without a signal (expired,
deleted, a password or is_active changed by QuerySet.update()). See inbox.push.sweep.

With django-tasks-rq as the task backend (TASKS_BACKEND=rq) it queues the same periodic work,
then runs an RQ worker with RQ's scheduler in this process instead of db_worker (--batch: until
the queue is empty; --worker-id: the RQ worker's name); `manage.py rqworker` processes may run
beside it. The relay runs the same with either backend, and is what retries a delivery under
both: RQ runs each job once, and a delivery of a worker that died runs again from the relay once
its lease has passed (inbox.workers).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from inbox.conf import inbox_setting
from inbox.outbox.loop import keep_relaying, relay_once
from inbox.workers import run_rq_worker, uses_rq

logger = logging.getLogger("inbox.worker")


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
    help = "Run the task worker and the delivery relay (what is due, retries, deliveries of dead workers)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        if uses_rq():  # db_worker's --backend takes database backends only; RQ's worker needs none
            parser.set_defaults(backend_name=None)

    def handle(self, *args, **options):
        # With --reload, the process that runs tasks is the reloader's child; the parent only watches.
        # (The RQ worker does not reload: restart it after a code change.)
        rq = uses_rq()
        runs_tasks = (
            rq or not options["reload"] or options["batch"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        )
        if runs_tasks:
            if apps.is_installed("inbox.realtime") and options["verbosity"] >= 1:
                self.stdout.write(realtime_route())
            if options["batch"]:
                relay_once()
            else:
                threading.Thread(target=keep_relaying, name="inbox-relay", daemon=True).start()
            if apps.is_installed("inbox.mail"):
                every = max(inbox_setting("DIGEST_INTERVAL"), 1)
                if options["batch"]:
                    queue_digests()  # once: --batch runs what is queued and exits
                else:
                    threading.Thread(
                        target=keep_queueing_digests, args=(every,), name="inbox-digests", daemon=True
                    ).start()
            if apps.is_installed("inbox.push"):
                every = max(inbox_setting("PUSH_SWEEP_INTERVAL"), 1)
                if options["batch"]:
                    queue_push_sweep()
                else:
                    threading.Thread(
                        target=keep_queueing_push_sweeps, args=(every,), name="inbox-push-sweep", daemon=True
                    ).start()
        if rq:
            queues = options["queue_name"].split(",") if options["queue_name"] != "*" else None
            return run_rq_worker(queues, burst=options["batch"], name=options["worker_id"])
        return super().handle(*args, **options)
