"""Recovery of deliveries whose worker died: django-tasks-db leaves such a task RUNNING forever.
`manage.py inbox_worker` queues again a delivery still RUNNING past INBOX_TASK_LEASE_SECONDS
(when it starts, then every half lease); receipts make the rerun skip what was sent."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.module_loading import import_string

from inbox.conf import inbox_setting

from .tasks import deliver_push

logger = logging.getLogger(__name__)

# Tasks that may run again after their worker died (their effects are idempotent enough: both
# deliveries skip what their receipts say went out). Also the path deliver_push had before the
# push package (inbox.tasks re-exports it). A digest run needs no recovery: its claims expire.
RECOVERABLE_TASKS = (deliver_push.module_path, "inbox.tasks.deliver_push", "inbox.mail.tasks.deliver_email")


class AbandonedTask(Exception):
    """Recorded on a task whose worker died while running it (it was queued again)."""


ABANDONED_PATH = f"{AbandonedTask.__module__}.{AbandonedTask.__qualname__}"


def recover_abandoned_tasks(now=None) -> list[str]:
    """Queue again every recoverable task that is still RUNNING INBOX_TASK_LEASE_SECONDS after
    it started (django-tasks-db leaves a task RUNNING forever when its worker dies), with the
    same arguments, and mark the old one failed. Safe to run from several workers at once:
    only the one whose update changes the row queues it. Returns the new tasks' ids."""
    from django_tasks_db.models import DBTaskResult  # only when that backend is installed

    now = now or timezone.now()
    lease = inbox_setting("TASK_LEASE_SECONDS")
    stuck = DBTaskResult.objects.running().filter(
        task_path__in=RECOVERABLE_TASKS, started_at__lt=now - timedelta(seconds=lease)
    )
    requeued = []
    for row in stuck.order_by("started_at")[:1000]:
        again = import_string(row.task_path).using(
            priority=row.priority, queue_name=row.queue_name, backend=row.backend_name
        )
        args, kwargs = row.args_kwargs["args"], row.args_kwargs["kwargs"]
        with transaction.atomic(using=DBTaskResult.objects.db):
            new = again.enqueue(*args, **kwargs)
            error = AbandonedTask(
                f"Abandoned: still RUNNING {lease} s after it started at {row.started_at.isoformat()} "
                f"on worker {(row.worker_ids or ['?'])[-1]}, whose process presumably died. "
                f"Queued again with the same arguments as task {new.id}."
            )
            changed = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=ABANDONED_PATH,
                traceback=f"{ABANDONED_PATH}: {error}\n",
            )
            if not changed:  # another worker recovered it first
                transaction.set_rollback(True)
                continue
        logger.warning(
            "Task %s (%s %s) was abandoned; queued again as %s", row.pk, row.task_path, args, new.id
        )
        requeued.append(str(new.id))
    return requeued
