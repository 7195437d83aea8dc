"""Item 12: a delivery survives its worker dying. The first task splits a large audience into
bounded tasks (outbox rows, in one transaction), every wave of sends leaves receipts that a task
run again skips, and a task left RUNNING past the lease is queued again by `manage.py
inbox_worker` (tests/outbox/ tests the outbox itself, and kills real workers)."""

# ruff: noqa: F811 (the imported push fixtures are used as arguments)
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.tasks import default_task_backend
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from webpush.models import SubscriptionInfo

from inbox.api import notify
from inbox.models import Message
from inbox.outbox import Handover
from inbox.push.models import PushReceipt
from inbox.push.tasks import deliver_push
from tests.outbox.rows import planned

from .conftest import bind_to_sessions

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
    assert [(name, args) for name, args, _ in planned()] == [
        ("deliver_push", [pk, ids[0:5], 1]),
        ("deliver_push", [pk, ids[5:10], 1]),
        ("deliver_push", [pk, ids[10:12], 1]),
    ]
    assert receiver.received == []  # the planning task sends nothing itself
    for _, args, _ in planned():
        deliver_push.call(*args)
    assert len(receiver.received) == 12 and len(set(paths(receiver))) == 12


def test_an_audience_within_one_batch_is_sent_by_the_first_task(
    settings, receiver, audience, django_user_model
):
    settings.INBOX_PUSH_BATCH_SIZE = 5
    audience(5)
    sent = notify(django_user_model.objects.all(), "Hello")
    default_task_backend.clear()
    assert deliver_push.call(sent.message.pk) == {"sent": 5, "attempt": 1}
    assert planned() == []


def test_retries_are_split_by_the_batch_size_too(settings, receiver, audience, django_user_model):
    settings.INBOX_PUSH_BATCH_SIZE = 2
    ids = audience(3)
    for i in range(3):
        receiver.reply(f"u{i}", 503)
    sent = notify(django_user_model.objects.all(), "Hello")
    default_task_backend.clear()
    assert deliver_push.call(sent.message.pk, ids, 1)["retry"] == 3
    chunks = [args for _, args, _ in planned()]
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
def test_receipts_are_written_once_per_half_wave_not_once_per_push(
    settings, receiver, audience, django_user_model, n
):
    settings.INBOX_PUSH_WAVE_SIZE = 10
    ids = audience(n)
    sent = notify(django_user_model.objects.all(), "Hello")
    # The message, its receipts, the targets, the unread counts; then one INSERT per half wave
    # of answers (the stream writes them while the other pushes go on).
    with CaptureQueriesContext(connection) as queries:
        assert deliver_push.call(sent.message.pk, ids, 1)["sent"] == n
    inserts = [q["sql"] for q in queries if "inbox_pushreceipt" in q["sql"] and q["sql"].startswith("INSERT")]
    assert len(queries) == 4 + n // 5
    assert len(inserts) == n // 5
    assert PushReceipt.objects.count() == n


def test_the_first_task_costs_one_query_more_than_a_batch(
    settings, receiver, audience, django_user_model, django_assert_num_queries
):
    settings.INBOX_PUSH_WAVE_SIZE = 10
    audience(20)
    sent = notify(django_user_model.objects.all(), "Hello")
    with django_assert_num_queries(4 + 1 + 4):  # as above, and the audience; 4 half waves
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


# -- a delivery whose worker died is run again by the next inbox_worker


@pytest.mark.django_db(transaction=True)
def test_inbox_worker_recovers_an_abandoned_delivery_when_it_starts(settings, alice, receiver, subscribe):
    """In one process, on any database: the dead worker's hand-over is found on start and run."""
    settings.TASKS = DB_TASKS
    bind_to_sessions([(alice, subscribe(alice, "a"))])  # else the worker's sweep deletes it
    notify(alice, "Survives a dead worker")  # committed: its task is enqueued at once
    # What a worker killed mid-run leaves: its task taken, the hand-over RUNNING since long ago.
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now(), worker_ids=["dead-worker"])
    Handover.objects.update(state="running", attempts=1, started_at=timezone.now() - timedelta(hours=1))

    call_command("inbox_worker", "--batch", "--no-startup-delay", verbosity=0)

    (push,) = receiver.received
    assert push["payload"]["body"] == "Survives a dead worker"
    assert not Handover.objects.exists()  # done: nothing left to deliver


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
