"""Item 12: a delivery survives its worker dying. The first task splits a large audience into
bounded tasks, every wave of sends leaves receipts that a task run again skips, and a task left
RUNNING past the lease is queued again by `manage.py inbox_worker`."""

# ruff: noqa: F811 (the imported push fixtures are used as arguments)
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.tasks import default_task_backend
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from webpush.models import PushInformation, SubscriptionInfo

from inbox.api import notify
from inbox.models import Message, PushReceipt
from inbox.push import recovery
from inbox.push.recovery import recover_abandoned_tasks
from inbox.push.tasks import deliver_push

from .conftest import bind_to_sessions, queued
from .receiver import PushReceiver

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
ROOT = Path(__file__).resolve().parents[2]  # the repository


@pytest.fixture
def audience(db, receiver, subscribe, django_user_model):
    """audience(n): n users with one subscription each -> their subscription ids, in order."""

    def make(n):
        users = [django_user_model.objects.create(username=f"u{i}") for i in range(n)]
        return [subscribe(user, user.username).pk for user in users]

    return make


def paths(receiver):
    return sorted(p["path"] for p in receiver.received)


# -- the first delivery of a large audience is split into bounded tasks


def test_a_large_audience_is_split_into_tasks_of_the_batch_size(
    settings, receiver, audience, django_user_model
):
    settings.INBOX_PUSH_BATCH_SIZE = 5
    ids = audience(12)
    sent = notify(django_user_model.objects.all(), "Broadcast")
    default_task_backend.clear()

    assert deliver_push.call(sent.message.pk) == {"planned": 3, "subscriptions": 12}

    pk = sent.message.pk
    assert queued() == [
        ("deliver_push", [pk, ids[0:5], 1]),
        ("deliver_push", [pk, ids[5:10], 1]),
        ("deliver_push", [pk, ids[10:12], 1]),
    ]
    assert receiver.received == []  # the planning task sends nothing itself
    for result in list(default_task_backend.results):
        deliver_push.call(*result.args)
    assert len(receiver.received) == 12 and len(set(paths(receiver))) == 12


def test_an_audience_within_one_batch_is_sent_by_the_first_task(
    settings, receiver, audience, django_user_model
):
    settings.INBOX_PUSH_BATCH_SIZE = 5
    audience(5)
    sent = notify(django_user_model.objects.all(), "Hello")
    default_task_backend.clear()
    assert deliver_push.call(sent.message.pk) == {"sent": 5, "attempt": 1}
    assert queued() == []


def test_retries_are_split_by_the_batch_size_too(settings, receiver, audience, django_user_model):
    settings.INBOX_PUSH_BATCH_SIZE = 2
    ids = audience(3)
    for i in range(3):
        receiver.reply(f"u{i}", 503)
    sent = notify(django_user_model.objects.all(), "Hello")
    default_task_backend.clear()
    assert deliver_push.call(sent.message.pk, ids, 1)["retry"] == 3
    chunks = [args for _, args in queued()]
    assert [(message_id, len(chunk), attempt) for message_id, chunk, attempt in chunks] == [
        (sent.message.pk, 2, 2),
        (sent.message.pk, 1, 2),
    ]
    assert sorted(chunks[0][1] + chunks[1][1]) == ids


# -- receipts: what went out is recorded a wave at a time, and skipped by a task run again


def test_a_task_run_again_skips_the_subscriptions_it_already_reached(receiver, audience, django_user_model):
    ids = audience(4)
    sent = notify(django_user_model.objects.all(), "Hello")
    PushReceipt.objects.bulk_create(PushReceipt(message=sent.message, subscription_id=pk) for pk in ids[:2])

    assert deliver_push.call(sent.message.pk, ids, 1) == {"sent": 2, "attempt": 1, "already_sent": 2}
    assert paths(receiver) == ["/push/u2", "/push/u3"]
    assert set(PushReceipt.objects.values_list("subscription_id", flat=True)) == set(ids)
    # Once more: everything went out, nothing is sent again.
    assert deliver_push.call(sent.message.pk, ids, 1) == {"sent": 0, "already_sent": 4}
    assert len(receiver.received) == 2


def test_only_pushes_that_went_out_get_a_receipt(receiver, audience, django_user_model):
    ids = audience(3)
    receiver.reply("u1", 503)  # retried later: no receipt
    receiver.reply("u2", 410)  # gone: removed
    sent = notify(django_user_model.objects.all(), "Hello")
    assert deliver_push.call(sent.message.pk, ids, 1) == {"sent": 1, "retry": 1, "gone": 1, "attempt": 1}
    assert list(PushReceipt.objects.values_list("subscription_id", flat=True)) == [ids[0]]
    assert not SubscriptionInfo.objects.filter(pk=ids[2]).exists()


@pytest.mark.parametrize("n", [10, 40])
def test_receipts_are_written_once_per_wave_not_once_per_push(
    settings, receiver, audience, django_user_model, n
):
    settings.INBOX_PUSH_WAVE_SIZE = 10
    ids = audience(n)
    sent = notify(django_user_model.objects.all(), "Hello")
    # The message, its receipts, the targets, the unread counts; then one INSERT per wave.
    with CaptureQueriesContext(connection) as queries:
        assert deliver_push.call(sent.message.pk, ids, 1)["sent"] == n
    inserts = [q["sql"] for q in queries if "inbox_pushreceipt" in q["sql"] and q["sql"].startswith("INSERT")]
    assert len(queries) == 4 + n // 10
    assert len(inserts) == n // 10
    assert PushReceipt.objects.count() == n


def test_the_first_task_costs_one_query_more_than_a_batch(
    settings, receiver, audience, django_user_model, django_assert_num_queries
):
    settings.INBOX_PUSH_WAVE_SIZE = 10
    audience(20)
    sent = notify(django_user_model.objects.all(), "Hello")
    with django_assert_num_queries(4 + 1 + 2):  # as above, and the audience; 2 waves
        assert deliver_push.call(sent.message.pk)["sent"] == 20


def test_receipts_go_with_their_message(receiver, audience, django_user_model):
    ids = audience(2)
    sent = notify(
        django_user_model.objects.all(), "Soon gone", expires_at=timezone.now() + timedelta(hours=1)
    )
    deliver_push.call(sent.message.pk, ids, 1)
    kept = notify(django_user_model.objects.all(), "Kept")
    deliver_push.call(kept.message.pk, ids, 1)
    assert PushReceipt.objects.count() == 4
    Message.objects.filter(pk=sent.message.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    call_command("purge_notifications", verbosity=0)

    assert not Message.objects.filter(pk=sent.message.pk).exists()
    assert set(PushReceipt.objects.values_list("message_id", flat=True)) == {kept.message.pk}


# -- a task left RUNNING past the lease is queued again


def running_task(args, started_ago: timedelta, task_path="inbox.tasks.deliver_push") -> DBTaskResult:
    """A row as django-tasks-db leaves it when the worker running it is killed; by default one
    queued under deliver_push's old path (inbox.tasks), which must still be recovered."""
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": args, "kwargs": {}},
        task_path=task_path,
        backend_name="default",
        run_after=timezone.now() - started_ago,
        started_at=timezone.now() - started_ago,
        worker_ids=["dead-worker"],
    )


def test_a_task_running_past_the_lease_is_queued_again_once(settings, db):
    settings.TASKS = DB_TASKS
    settings.INBOX_TASK_LEASE_SECONDS = 600
    stale = running_task([7, [1, 2, 3], 2], timedelta(seconds=601))
    fresh = running_task([8, [4], 1], timedelta(seconds=599))
    other = running_task([9], timedelta(hours=1), task_path="elsewhere.tasks.job")

    (new_id,) = recover_abandoned_tasks()

    stale.refresh_from_db()
    assert stale.status == "FAILED" and stale.finished_at is not None
    assert stale.exception_class_path == "inbox.push.recovery.AbandonedTask"
    assert "Abandoned: still RUNNING 600 s" in stale.traceback
    assert "dead-worker" in stale.traceback and new_id in stale.traceback
    again = DBTaskResult.objects.get(pk=new_id)
    assert (again.status, again.task_path) == ("READY", "inbox.push.tasks.deliver_push")
    assert again.args_kwargs == {"args": [7, [1, 2, 3], 2], "kwargs": {}}
    assert again.task_result.task.run_after is None  # runs now, not at the old row's time
    assert DBTaskResult.objects.get(pk=fresh.pk).status == "RUNNING"  # still within its lease
    assert DBTaskResult.objects.get(pk=other.pk).status == "RUNNING"  # not ours to judge
    assert recover_abandoned_tasks() == []  # done once
    assert DBTaskResult.objects.exclude(pk=other.pk).count() == 3


def test_of_two_workers_recovering_at_once_only_one_queues_it_again(settings, db, monkeypatch):
    settings.TASKS = DB_TASKS
    stale = running_task([7, [1], 1], timedelta(hours=1))
    real_import = recovery.import_string

    def another_worker_wins(path):  # it marks the row between our SELECT and our UPDATE
        DBTaskResult.objects.filter(pk=stale.pk).update(status="FAILED", traceback="recovered elsewhere")
        return real_import(path)

    monkeypatch.setattr(recovery, "import_string", another_worker_wins)
    assert recover_abandoned_tasks() == []
    assert list(DBTaskResult.objects.values_list("status", "traceback")) == [
        ("FAILED", "recovered elsewhere")
    ]


@pytest.mark.django_db(transaction=True)
def test_inbox_worker_recovers_an_abandoned_delivery_when_it_starts(settings, alice, receiver, subscribe):
    """In one process, on any database: the killed worker's row is found on start and run."""
    settings.TASKS = DB_TASKS
    bind_to_sessions([(alice, subscribe(alice, "a"))])  # else the worker's sweep deletes it
    notify(alice, "Survives a dead worker")
    DBTaskResult.objects.update(
        status="RUNNING", started_at=timezone.now() - timedelta(hours=1), worker_ids=["dead-worker"]
    )

    call_command("inbox_worker", "--batch", "--no-startup-delay", verbosity=0)

    (push,) = receiver.received
    assert push["payload"]["body"] == "Survives a dead worker"
    pushes = DBTaskResult.objects.filter(task_path=deliver_push.module_path)  # not the digest run
    assert sorted(pushes.values_list("status", flat=True)) == ["FAILED", "SUCCESSFUL"]


@pytest.mark.django_db(transaction=True)
def test_inbox_worker_sweeps_push_subscriptions_when_it_starts(settings, alice, bob, receiver, subscribe):
    """Then every INBOX_PUSH_SWEEP_INTERVAL: push ends for sessions that ended without a signal."""
    settings.TASKS = DB_TASKS
    bind_to_sessions([(alice, subscribe(alice, "alice"))])
    subscribe(bob, "bob")  # bound to no session
    call_command("inbox_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert list(SubscriptionInfo.objects.values_list("endpoint", flat=True)) == [
        f"{receiver.origin}/push/alice"
    ]
    (sweep,) = DBTaskResult.objects.filter(task_path="inbox.push.tasks.sweep_push_subscriptions")
    assert sweep.status == "SUCCESSFUL"


# -- end to end: a real worker process is killed mid-delivery, another one finishes the job

WORKER = """
import os, sys
import tests.settings as s
s.DATABASES["default"]["NAME"] = os.environ["INBOX_WORKER_DB_NAME"]
s.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
s.INBOX_PUSH_ALLOW_LOOPBACK = True
s.INBOX_PUSH_BATCH_SIZE, s.INBOX_PUSH_WAVE_SIZE, s.INBOX_PUSH_CONCURRENCY = 50, 10, 5
s.INBOX_TASK_LEASE_SECONDS = 4
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "inbox_worker", "--no-startup-delay", "--interval", "0.1",
                           "--skip-checks", "--no-reload", *sys.argv[1:]])
"""


def start_worker(log, *args) -> subprocess.Popen:
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "INBOX_WORKER_DB_NAME": connection.settings_dict["NAME"],
    }
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait_for(condition, seconds: float, what: str, log_path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}; the workers said:\n{log_path.read_text()}")
        time.sleep(0.005)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the worker runs in another process, which cannot see the in-memory SQLite test "
    "database; this test runs in the PostgreSQL pass",
)
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing(settings, tmp_path, django_user_model):
    settings.TASKS = DB_TASKS
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True
    n, wave = 200, 10
    log_path = tmp_path / "workers.log"
    with PushReceiver(delay=0.05) as receiver, log_path.open("w") as log:
        users = django_user_model.objects.bulk_create(django_user_model(username=f"u{i}") for i in range(n))
        infos = []
        for user in users:
            data = receiver.subscription(user.username)
            infos.append(
                SubscriptionInfo(
                    browser="test",
                    endpoint=data["endpoint"],
                    p256dh=data["keys"]["p256dh"],
                    auth=data["keys"]["auth"],
                )
            )
        infos = SubscriptionInfo.objects.bulk_create(infos)
        PushInformation.objects.bulk_create(
            PushInformation(user=user, subscription=info) for user, info in zip(users, infos, strict=True)
        )
        bind_to_sessions(list(zip(users, infos, strict=True)))  # the workers sweep unbound ones
        notify(django_user_model.objects.all(), "To everyone, once")  # queues the delivery on commit

        first = start_worker(log)
        try:  # SIGKILL once some but not all have arrived: in the second of four tasks of 50
            wait_for(lambda: len(receiver.received) >= 70, 60, "the first pushes", log_path)
        finally:
            first.kill()
            first.wait()
        arrived_before = len(receiver.received)
        assert arrived_before < n
        (stuck,) = DBTaskResult.objects.filter(status="RUNNING")  # what a dead worker leaves

        # A new worker: it runs what was queued, and queues the stuck task again once it is
        # past its lease (4 s here), from its periodic recovery.
        second = start_worker(log)
        try:
            wait_for(
                lambda: not DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists(),
                60,
                "every task to finish",
                log_path,
            )
        finally:
            second.terminate()
            second.wait(10)

        counts = Counter(p["path"] for p in receiver.received)
        assert set(counts) == {f"/push/u{i}" for i in range(n)}  # every subscription got it
        repeats = sum(counts.values()) - n
        assert repeats <= wave, counts.most_common(wave + 1)  # at most the wave in flight
        stuck.refresh_from_db()
        assert stuck.status == "FAILED" and "Abandoned" in stuck.traceback
        assert not DBTaskResult.objects.filter(status="RUNNING").exists()
        assert not receiver.rejected
        print(f"killed after {arrived_before} of {n} pushes arrived; repeated after recovery: {repeats}")
