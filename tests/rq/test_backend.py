"""Deliveries on django-tasks-rq (RQ on the real Redis), run in this process by RQ's SimpleWorker:
notify() queues its push and email jobs in Redis, RQ runs each once, a job that raises is retried
by the outbox (its hand-over back to PENDING with backoff, enqueued again by the relay) and ends
FAILED after the last attempt, and the demo's settings choose the backend from TASKS_BACKEND."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from django.contrib.auth.models import User
from django.tasks import default_task_backend, task_backends
from django.utils import timezone
from rq.job import JobStatus
from rq.worker import SimpleWorker

from inbox.api import notify
from inbox.outbox import Handover
from inbox.outbox.loop import relay_once
from inbox.push import tasks as push_tasks
from inbox.push.models import PushReceipt
from inbox.workers import RQ_JOB_CLASS, uses_rq
from tests.test_settings import manage

from .conftest import RQ_REDIS_URL, subscribe_all

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


def test_rq_runs_each_job_once_the_outbox_retries(rq_backend):
    alice = User.objects.create_user("alice")
    notify(alice, "Retried if need be")
    (job,) = queue().get_jobs()  # alice has no address: only the push (VAPID is set up) is queued
    assert not job.retries_left  # an RQ re-run would find its hand-over no longer QUEUED: no retries
    assert Handover.objects.get().task_id == job.id


def fail_first_runs(monkeypatch, failures: int, error: Exception) -> list[int]:
    """The push delivery's audience query raises for its first `failures` runs; returns the runs."""
    real_audience, runs = push_tasks.audience, []

    def audience(message):
        runs.append(message.pk)
        if len(runs) <= failures:
            raise error
        return real_audience(message)

    monkeypatch.setattr(push_tasks, "audience", audience)
    return runs


def test_a_job_that_raises_waits_for_the_outbox_backoff_not_an_rq_retry(rq_backend, receiver, monkeypatch):
    alice = User.objects.create_user("alice")
    subscribe_all(receiver, [alice])
    runs = fail_first_runs(monkeypatch, 1, ConnectionError("the database went away"))
    notify(alice, "After a blip", kind="mention")
    (job,) = (job for job in queue().get_jobs() if job.func_name.endswith("deliver_push"))
    before = timezone.now()

    work()

    after = timezone.now()
    row = Handover.objects.get(channel="push")
    assert (row.state, row.attempts, row.task_id) == (Handover.State.PENDING, 1, job.id)
    assert row.last_error.endswith("ConnectionError: the database went away")
    # The default backoff, 30 s x 2^0, from the moment the run failed.
    assert before + timedelta(seconds=30) <= row.next_attempt_at <= after + timedelta(seconds=30)
    job.refresh()
    assert job.get_status() == JobStatus.FAILED and job.id in queue().failed_job_registry
    assert default_task_backend.get_result(job.id).status == "FAILED"
    # Nothing waits in RQ to run it again, and the relay leaves it until its time comes.
    assert queue().count == 0 and queue().scheduled_job_registry.count == 0
    assert relay_once() == 0
    work()
    assert runs == [row.message_id] and receiver.received == []


def test_a_job_that_raises_is_enqueued_again_by_the_relay_and_delivers_once(
    rq_backend, receiver, settings, monkeypatch, caplog
):
    settings.INBOX_DELIVERY_RETRY_BASE_SECONDS = 0  # due again at once
    alice = User.objects.create_user("alice")
    subscribe_all(receiver, [alice])
    runs = fail_first_runs(monkeypatch, 1, ConnectionError("the database went away"))
    notify(alice, "After a blip", kind="mention")

    work()

    assert len(runs) == 1 and receiver.received == []
    assert queue().count == 0  # RQ does not run it again by itself
    assert "failed (attempt 1 of 5), retried in 0 s: ConnectionError('the database went away')" in caplog.text
    assert relay_once() == 1
    (again,) = queue().get_jobs()
    assert again.func_name.endswith("deliver_push")

    work()

    assert len(runs) == 2
    assert [p["path"] for p in receiver.received] == ["/push/alice"]
    assert not Handover.objects.exists()  # delivered: its row is gone
    assert default_task_backend.get_result(again.id).status == "SUCCESSFUL"
    assert relay_once() == 0
    work()
    assert len(runs) == 2 and len(receiver.received) == 1


def test_a_job_that_keeps_raising_ends_failed_with_its_reason(rq_backend, settings, monkeypatch, caplog):
    settings.INBOX_DELIVERY_RETRY_BASE_SECONDS = 0
    settings.INBOX_DELIVERY_MAX_ATTEMPTS = 3
    alice = User.objects.create_user("alice")
    runs = fail_first_runs(monkeypatch, 99, RuntimeError("a bug in a template"))
    sent = notify(alice, "Never sent")

    for _ in range(4):  # one more pass than attempts: the last one finds nothing to run
        work()
        relay_once()

    assert runs == [sent.message.pk] * 3
    row = Handover.objects.get()
    assert (row.state, row.attempts) == (Handover.State.FAILED, 3)
    assert row.last_error.endswith("RuntimeError: a bug in a template")
    assert "Delivery deliver_push" in caplog.text
    assert "failed for good after 3 attempts: RuntimeError('a bug in a template')" in caplog.text
    failed = queue().failed_job_registry.get_job_ids()
    assert len(failed) == 3  # three RQ jobs, each run once
    for job_id in failed:
        result = default_task_backend.get_result(job_id)
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


def test_a_job_still_waiting_in_redis_is_not_queued_again_and_a_lost_one_is(rq_backend, settings):
    """Issue 19 review: recover() asks RQ (django-tasks-rq's get_result) about a hand-over QUEUED
    for a lease. A job still in the queue (a long queue, no worker free) is left there; before,
    a copy was queued every lease for as long as it waited. A job RQ lost is queued again."""
    settings.INBOX_TASK_LEASE_SECONDS = 600
    alice = User.objects.create_user("alice")
    notify(alice, "Waits its turn")
    (row,) = Handover.objects.all()
    long_ago = timezone.now() - timedelta(seconds=3600)
    Handover.objects.update(queued_at=long_ago)
    assert relay_once() == 0
    assert len(queue().get_jobs()) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("queued", 0) and row.queued_at > long_ago

    queue().empty()  # Redis lost it (flushed, evicted)
    Handover.objects.update(queued_at=long_ago)
    assert relay_once() == 1  # recovered, then enqueued again at once
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("queued", 1) and "Not started" in row.last_error
    assert len(queue().get_jobs()) == 1
