"""Which task backend runs the deliveries, and the RQ side of it (the optional `[rq]` extra).

With django-tasks-rq (`TASKS["default"]["BACKEND"] = "django_tasks_rq.RQBackend"`) the tasks live
in Redis and RQ workers run them, on any number of machines. Retries are not RQ's: a delivery is
retried by the outbox (inbox.outbox), the same way under every task backend, and RQ runs each job
once (django-tasks-rq gives its jobs no RQ retries, and the app adds none):

- **A job that raises** has its hand-over row put back to PENDING by `@durable`, with backoff
  (INBOX_DELIVERY_RETRY_BASE_SECONDS x 2^(attempt-1)), or FAILED after
  INBOX_DELIVERY_MAX_ATTEMPTS; the relay enqueues a new job when it is due. RQ records the failed
  job in its FailedJobRegistry with its traceback (django-rq's admin pages show it).
- **A job whose worker died** leaves its row RUNNING; the relay's recovery puts it back
  INBOX_TASK_LEASE_SECONDS after the run started (at most half a lease later: recovery runs every
  half lease) and enqueues it again; its receipts make it skip what was sent. An RQ re-run could
  not take the row over (the row is RUNNING, so `@durable` would skip it), so none is configured.

`Worker` (django-rq's WORKER_CLASS) keeps RQ's own records truthful sooner: its maintenance, every
MAINTENANCE_SECONDS rather than RQ's 10 minutes, marks a dead worker's job failed
(AbandonedJobError) about 90 + 30 s after the death instead of leaving it "started" for good.

Tasks queued for later (the relay never does, but a site's own `run_after` tasks) wait in RQ's
ScheduledJobRegistry: at least one worker must run RQ's scheduler (`rqworker --with-scheduler`,
which `inbox_worker` also does).
"""

from __future__ import annotations

from django.conf import settings
from django.tasks import task_backends
from django.tasks.exceptions import InvalidTaskBackend

__all__ = ["RQ_BACKEND", "Worker", "run_rq_worker", "stop_errors", "uses_rq"]

RQ_BACKEND = "django_tasks_rq.RQBackend"
RQ_JOB_CLASS = "django_tasks_rq.Job"


def uses_rq(alias: str = "default") -> bool:
    """Whether the task backend `alias` is django-tasks-rq's (its workers are RQ's, not db_worker)."""
    backend = settings.TASKS.get(alias, {}).get("BACKEND", "")
    if backend == RQ_BACKEND:
        return True
    try:
        from django_tasks_rq import RQBackend
    except ImportError:  # the [rq] extra is not installed
        return False
    try:
        return isinstance(task_backends[alias], RQBackend)  # a subclass of it
    except InvalidTaskBackend:
        return False


def stop_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a task backend raises inside a running task to stop it (RQ's job timeout,
    an ordinary Exception raised from a signal handler): code that sorts one email's or one
    push's error into an outcome must let these through, or the run would go on past its end."""
    try:
        from rq.timeouts import BaseTimeoutException
    except ImportError:  # the [rq] extra is not installed
        return ()
    return (BaseTimeoutException,)


try:
    import django_rq
    from rq.worker import Worker as BaseWorker
except ImportError:  # the [rq] extra is not installed: only uses_rq() is of use then
    pass
else:

    class Worker(BaseWorker):
        """RQ's forking worker, whose maintenance (which marks the jobs of dead workers failed)
        runs every MAINTENANCE_SECONDS rather than every 10 minutes, idle or busy. One worker at
        a time does it (RQ takes a lock per queue), so many workers cost Redis little more. The
        deliveries of dead workers are the outbox's to run again, not RQ's (see above)."""

        MAINTENANCE_SECONDS = 30
        # RQ's default: a running job's heartbeat; its entry outlives a dead worker by this + 60 s.
        JOB_MONITORING_SECONDS = 30

        def __init__(self, *args, **kwargs):
            kwargs.setdefault("maintenance_interval", self.MAINTENANCE_SECONDS)
            kwargs.setdefault("job_monitoring_interval", self.JOB_MONITORING_SECONDS)
            super().__init__(*args, **kwargs)

        @property
        def dequeue_timeout(self) -> int:
            # An idle RQ worker waits on the queue for up to worker_ttl - 15 s (405 s) and runs its
            # maintenance only between two waits: wake at every maintenance interval instead.
            return max(1, min(super().dequeue_timeout, int(self.maintenance_interval)))


def run_rq_worker(
    queue_names: list[str] | None = None, *, burst: bool = False, name: str | None = None
) -> None:
    """Run an RQ worker in this process on the task backend's queues (all of them by default),
    with RQ's scheduler, as `manage.py rqworker --with-scheduler` would; returns when it stops
    (SIGTERM: after the current job; with `burst`, once the queues are empty)."""
    from django_rq.utils import reset_db_connections
    from rq.logutils import setup_loghandlers

    queues = queue_names or sorted(task_backends["default"].queues)
    worker_class = getattr(settings, "RQ", {}).get("WORKER_CLASS", Worker)
    worker = django_rq.get_worker(*queues, job_class=RQ_JOB_CLASS, worker_class=worker_class, name=name)
    setup_loghandlers("INFO")
    reset_db_connections()  # each job runs in a fork: it must not share this process's connections
    worker.work(burst=burst, with_scheduler=True)
