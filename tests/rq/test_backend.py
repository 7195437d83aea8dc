"""Deliveries on django-tasks-rq (RQ on the real Redis), run in this process by RQ's SimpleWorker:
notify() queues its push and email jobs in Redis, RQ runs them, a job that raises is retried by
RQ, and the demo's settings choose the backend from TASKS_BACKEND."""

from __future__ import annotations

import django_rq
import pytest
from django.contrib.auth.models import User
from django.tasks import default_task_backend, task_backends
from django.utils import timezone
from rq.job import JobStatus
from rq.worker import SimpleWorker

from inbox.api import notify
from inbox.models import PushReceipt
from inbox.push import tasks as push_tasks
from inbox.workers import RQ_JOB_CLASS, uses_rq
from tests.test_settings import manage

from .conftest import RETRY_INTERVALS, RQ_REDIS_URL, subscribe_all

pytestmark = pytest.mark.django_db(transaction=True)  # notify() queues on commit, as in production


def queue():
    return django_rq.get_queue("default", job_class=RQ_JOB_CLASS)


def work() -> None:
    """Run every job queued (and every retry due) in this process, then return."""
    worker = django_rq.get_worker("default", job_class=RQ_JOB_CLASS, worker_class=SimpleWorker)
    worker.work(burst=True, with_scheduler=False)


def test_the_backend_is_rq(rq_backend):
    assert uses_rq()
    assert type(task_backends["default"]).__name__ == "RQBackend"


def test_the_database_backend_is_not_rq(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert not uses_rq()


def test_notify_queues_push_and_email_in_redis_and_an_rq_worker_delivers_them(rq_backend, receiver, smtp):
    users = [User.objects.create_user(name) for name in ("alice", "bob", "carol")]
    subscribe_all(receiver, users)

    sent = notify(User.objects.all(), "Through Redis", kind="mention")

    jobs = queue().get_jobs()
    assert sorted(job.func_name for job in jobs) == [
        "inbox.mail.tasks.deliver_email",
        "inbox.push.tasks.deliver_push",
    ]
    assert [list(job.args) for job in jobs] == [[sent.message.pk]] * 2
    assert receiver.received == [] and smtp.received == []  # nothing runs before a worker does

    work()

    assert sorted(p["path"] for p in receiver.received) == ["/push/alice", "/push/bob", "/push/carol"]
    assert {p["payload"]["body"] for p in receiver.received} == {"Through Redis"}
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == [f"{u.username}@example.com" for u in users]
    assert PushReceipt.objects.filter(message=sent.message).count() == 3
    assert {default_task_backend.get_result(job.id).status for job in jobs} == {"SUCCESSFUL"}


def test_every_job_gets_rq_retries(rq_backend):
    alice = User.objects.create_user("alice")
    notify(alice, "Retried if need be")
    (job,) = queue().get_jobs()  # alice has no address: only the push (VAPID is set up) is queued
    assert job.retries_left == len(RETRY_INTERVALS)
    assert job.retry_intervals == RETRY_INTERVALS


def test_a_job_that_raises_is_retried_by_rq_and_then_delivers(
    rq_backend, receiver, smtp, settings, monkeypatch, caplog
):
    settings.RQ_QUEUES["default"]["RETRY_INTERVALS"] = [0]  # retried at once, in the same burst
    alice = User.objects.create_user("alice")
    subscribe_all(receiver, [alice])
    real_audience, calls = push_tasks.audience, []

    def audience_once_down(message):
        calls.append(message.pk)
        if len(calls) == 1:
            raise ConnectionError("the database went away")
        return real_audience(message)

    monkeypatch.setattr(push_tasks, "audience", audience_once_down)
    notify(alice, "After a blip", kind="mention")
    push_job = next(job for job in queue().get_jobs() if job.func_name.endswith("deliver_push"))

    work()

    assert len(calls) == 2
    assert [p["path"] for p in receiver.received] == ["/push/alice"]
    push_job.refresh()
    assert push_job.get_status() == JobStatus.FINISHED and push_job.retries_left == 0
    assert default_task_backend.get_result(push_job.id).status == "SUCCESSFUL"
    assert "ConnectionError: the database went away" in caplog.text  # the worker's log says why


def test_a_job_that_keeps_raising_ends_failed_with_its_reason(rq_backend, settings, monkeypatch):
    settings.RQ_QUEUES["default"]["RETRY_INTERVALS"] = [0, 0]
    alice = User.objects.create_user("alice")

    runs = []

    def broken(message):
        runs.append(message.pk)
        raise RuntimeError("a bug in a template")

    monkeypatch.setattr(push_tasks, "audience", broken)
    notify(alice, "Never sent")
    (job,) = queue().get_jobs()

    work()

    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert job.id in queue().failed_job_registry
    assert len(runs) == 3  # the first run and two retries
    result = default_task_backend.get_result(job.id)
    assert result.status == "FAILED"
    assert result.errors[-1].exception_class_path == "builtins.RuntimeError"
    assert result.errors[-1].traceback.endswith("RuntimeError: a bug in a template\n")


def test_a_task_queued_for_later_waits_in_rq_schedule(rq_backend):
    alice = User.objects.create_user("alice")
    sent = notify(alice, "Later")
    queue().empty()
    later = push_tasks.deliver_push.using(run_after=timezone.now() + timezone.timedelta(hours=1))
    result = later.enqueue(sent.message.pk, [1], 2)
    assert queue().scheduled_job_registry.get_job_ids() == [result.id]
    work()  # not due: a worker leaves it
    assert default_task_backend.get_result(result.id).status == "READY"


# -- the demo's settings


def test_tasks_backend_rq_needs_a_redis_url():
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "TASKS_BACKEND": "rq", "REDIS_URL": ""}
    result = manage("check", **env, TASKS_REDIS_URL="")
    assert result.returncode != 0
    assert result.stderr.rstrip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: TASKS_BACKEND=rq keeps the task queue in Redis: "
        "set REDIS_URL (or TASKS_REDIS_URL) to redis://host:6379/0."
    )


def test_tasks_backend_rq_with_redis_passes_the_checks_and_names_rq(rq_redis):
    code = (
        "from django.conf import settings; from inbox.workers import uses_rq; "
        "print(uses_rq(), settings.RQ_QUEUES['default']['URL'], 'django_rq' in settings.INSTALLED_APPS)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TASKS_BACKEND": "rq",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "TASKS_REDIS_URL": RQ_REDIS_URL,
    }
    assert manage("check", **env).returncode == 0
    result = manage("shell", "--no-imports", "-c", code, **env)
    assert result.stdout.split() == ["True", RQ_REDIS_URL, "True"], result.stderr


def test_the_default_backend_is_the_database():
    code = "from django.conf import settings; print(settings.TASKS['default']['BACKEND'])"
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "TASKS_BACKEND": "", "REDIS_URL": ""}
    result = manage("shell", "--no-imports", "-c", code, **env)
    assert result.stdout.strip() == "django_tasks_db.DatabaseBackend", result.stderr
