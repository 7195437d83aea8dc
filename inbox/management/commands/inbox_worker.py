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

With django-tasks-rq as the task backend (TASKS_BACKEND=rq) it queues the same periodic work,
then runs an RQ worker with RQ's scheduler in this process instead of db_worker (--batch: until
the queue is empty; --worker-id: the RQ worker's name); `manage.py rqworker` processes may run
beside it. RQ itself runs again the jobs of workers that died (see inbox.workers).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from inbox.conf import inbox_setting
from inbox.push.recovery import recover_abandoned_tasks
from inbox.workers import run_rq_worker, uses_rq

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


class Command(db_worker.Command):
    help = "Run the task worker, queueing again the deliveries of workers that died."

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
            if not rq:  # RQ runs a dead worker's job again itself (inbox.workers)
                recover()
            if not options["batch"] and not rq:
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
        if rq:
            queues = options["queue_name"].split(",") if options["queue_name"] != "*" else None
            return run_rq_worker(queues, burst=options["batch"], name=options["worker_id"])
        return super().handle(*args, **options)
