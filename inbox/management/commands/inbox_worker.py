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

It also queues the installed apps' periodic work (inbox.worker_jobs). With "inbox.mail" in
INSTALLED_APPS: the email digest run when it starts and then every INBOX_DIGEST_INTERVAL
seconds (no cron needed; the run is idempotent, so several workers,
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

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from inbox import worker_jobs
from inbox.outbox.loop import keep_relaying, relay_once
from inbox.workers import run_rq_worker, uses_rq

logger = logging.getLogger("inbox.worker")


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
            if options["verbosity"] >= 1:
                for note in worker_jobs.start_notes():
                    self.stdout.write(note)
            if options["batch"]:
                relay_once()
            else:
                threading.Thread(target=keep_relaying, name="inbox-relay", daemon=True).start()
            for job in worker_jobs.due_jobs():
                if options["batch"]:
                    worker_jobs.queue(job)  # once: --batch runs what is queued and exits
                else:
                    threading.Thread(
                        target=worker_jobs.keep_queueing, args=(job,), name=f"inbox-{job.app}", daemon=True
                    ).start()
        if rq:
            queues = options["queue_name"].split(",") if options["queue_name"] != "*" else None
            return run_rq_worker(queues, burst=options["batch"], name=options["worker_id"])
        return super().handle(*args, **options)
