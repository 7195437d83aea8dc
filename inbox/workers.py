"""Which task backend runs the deliveries, and the RQ side of it (the optional `[rq]` extra).

With django-tasks-rq (`TASKS["default"]["BACKEND"] = "django_tasks_rq.RQBackend"`) the tasks live
in Redis and RQ workers run them, on any number of machines. Two things RQ does not do by
itself, which a delivery needs:

- **A killed worker's job runs again.** RQ leaves the job of a worker that died in the queue's
  StartedJobRegistry; when its heartbeat runs out (RQ's job monitoring interval + 60 s) a
  worker's maintenance finds it and, if the job has retries left, queues it again, else moves
  it to the FailedJobRegistry. django-tasks-rq creates jobs without retries, so `RetryingQueue`
  (django-rq's QUEUE_CLASS) gives every job some, and `Worker` (django-rq's WORKER_CLASS) runs
  the maintenance every MAINTENANCE_SECONDS instead of RQ's 10 minutes. A delivery of a killed
  worker then runs again within about 90 + 30 s, and its receipts make it skip what was sent.
- **A job that raises is tried again**, with the same retries and their intervals (backoff),
  then kept in the FailedJobRegistry with its traceback (django-rq's admin pages show it).

Retries wait in RQ's ScheduledJobRegistry, like tasks queued with `run_after`: at least one
worker must run RQ's scheduler (`rqworker --with-scheduler`, which `inbox_worker` also does).
"""

from __future__ import annotations

from django.conf import settings
from django.tasks import task_backends
from django.tasks.exceptions import InvalidTaskBackend

__all__ = ["RQ_BACKEND", "RetryingQueue", "Worker", "run_rq_worker", "uses_rq"]

RQ_BACKEND = "django_tasks_rq.RQBackend"
RQ_JOB_CLASS = "django_tasks_rq.Job"

# RETRY_INTERVALS in a queue's RQ_QUEUES entry overrides it: one retry per interval (seconds).
DEFAULT_RETRY_INTERVALS = (10, 60, 300)


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


try:
    import django_rq
    from django_rq.queues import DjangoRQ
    from rq.job import Retry
    from rq.worker import Worker as BaseWorker
except ImportError:  # the [rq] extra is not installed: only uses_rq() is of use then
    pass
else:

    class RetryingQueue(DjangoRQ):
        """django-rq's queue, whose jobs get retries unless their creator gave some: a job
        abandoned by a dead worker, or that raised, runs again after each interval in turn."""

        def create_job(self, *args, retry=None, **kwargs):
            if retry is None:
                config = getattr(settings, "RQ_QUEUES", {}).get(self.name, {})
                intervals = list(config.get("RETRY_INTERVALS", DEFAULT_RETRY_INTERVALS))
                retry = Retry(max=len(intervals), interval=intervals) if intervals else None
            return super().create_job(*args, retry=retry, **kwargs)

    class Worker(BaseWorker):
        """RQ's forking worker, whose maintenance (which finds the jobs of dead workers) runs
        every MAINTENANCE_SECONDS rather than every 10 minutes, idle or busy. One worker at a
        time does it (RQ takes a lock per queue), so many workers cost Redis little more."""

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
