"""Issue 19, review findings: a run owns its hand-over row by its attempt number. A run taken for
dead (no sign of life for a lease) and taken over changes nothing of its successor's row; a long
run's heartbeat keeps recover() off it and stops it once it has been taken over; a task still
waiting in the backend's queue is not enqueued again, and one that never starts ends FAILED."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.tasks import default_task_backend
from django.utils import timezone

from inbox import outbox
from inbox.api import notify
from inbox.mail.models import EmailReceipt
from inbox.outbox import Handover, recover, relay
from inbox.push.models import PushReceipt

from . import backends

DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_queued():
    results = list(default_task_backend.results)
    default_task_backend.clear()
    return [result.task.call(*result.args, **result.kwargs) for result in results]


def start(task, *args):
    """Plan one row for `task(*args)` and enqueue it; returns the row's id."""
    (pk,) = outbox.plan(task, [list(args)], channel="push", run_after=timezone.now())
    assert relay([pk]) == 1
    return pk


# -- a run taken over writes nothing to its successor's row


@pytest.mark.parametrize("how", ["restarted", "recovered"])
@pytest.mark.parametrize(
    ("then", "raised"), [("return", None), ("raise", backends.BrokenQueue), ("interrupt", SystemExit)]
)
def test_a_run_taken_over_leaves_its_successors_row_alone(settings, db, then, raised, how):
    """Before: the late run deleted the successor's row when it returned (its delivery then had
    no record: a crash of the successor lost it), put it back PENDING when it raised, and lowered
    its attempts when interrupted. "recovered": the row is PENDING again, not yet restarted."""
    settings.TASKS = DUMMY
    pk = start(backends.overtaken, then, how)
    if raised:
        with pytest.raises(raised):
            run_queued()
    else:
        run_queued()
    row = Handover.objects.get(pk=pk)
    if how == "restarted":  # the successor's run, untouched
        assert (row.state, row.attempts, row.last_error) == ("running", 2, "")
    else:  # as recover() left it, to be enqueued again
        assert (row.state, row.attempts) == ("pending", 1) and row.last_error.startswith("Abandoned")


def test_a_run_taken_over_plans_nothing(settings, db, caplog):
    """Before: its batches were planned beside the successor's, and its successor's row deleted."""
    settings.TASKS = DUMMY
    pk = start(backends.overtaken, "plan")
    assert run_queued() == [{"skipped": f"hand-over {pk} was taken over: its successor plans instead"}]
    assert list(Handover.objects.values_list("pk", "state", "attempts")) == [(pk, "running", 2)]
    assert "stopped" in caplog.text


def test_a_heartbeat_stops_a_run_taken_over(settings, db):
    settings.TASKS = DUMMY
    settings.INBOX_TASK_LEASE_SECONDS = 0  # every heartbeat is written
    backends.RAN.clear()
    pk = start(backends.overtaken, "beat")
    assert run_queued() == [{"skipped": f"hand-over {pk} is no longer this run's"}]
    assert backends.RAN == [] and Handover.objects.get(pk=pk).state == "running"


# -- a heartbeat keeps a slow run from being taken for dead


def test_recover_leaves_a_run_that_beats_and_takes_one_that_stopped(settings, alice):
    settings.INBOX_TASK_LEASE_SECONDS = 600
    message = notify(alice, "x").message
    Handover.objects.all().delete()
    now = timezone.now()
    long_ago, lately = now - timedelta(seconds=3600), now - timedelta(seconds=60)

    def running(beat_at):
        return Handover.objects.create(
            channel="push", message=message, task_path="inbox.push.tasks.deliver_push", args=[message.pk],
            state="running", attempts=1, started_at=long_ago, beat_at=beat_at,
        )  # fmt: skip

    beating, silent, stopped = running(lately), running(None), running(now - timedelta(seconds=601))
    assert recover(now) == 2
    states = dict(Handover.objects.values_list("pk", "state"))
    assert states == {beating.pk: "running", silent.pk: "pending", stopped.pk: "pending"}


def test_an_email_batch_beats_between_waves_and_stops_once_taken_over(
    settings, db, address, smtp, monkeypatch, django_user_model
):
    """A batch taken over between two waves stops there: the successor mails the rest, and
    nobody is mailed by both (before: the late run went on to the end of its batch)."""
    from inbox.mail import tasks

    settings.TASKS = DUMMY
    settings.INBOX_MAIL_WAVE_SIZE = 1
    settings.INBOX_TASK_LEASE_SECONDS = 0
    users = [django_user_model.objects.create_user(f"u{i}", email=f"u{i}@example.com") for i in range(3)]
    message = notify(users, "Three", kind="mention").message
    Handover.objects.exclude(channel="email").delete()
    default_task_backend.clear()
    assert relay() == 1
    record = tasks.record
    waves = []

    def record_then_lose_the_row(*args):
        record(*args)
        waves.append(args)
        if len(waves) == 1:
            backends.take_over()

    monkeypatch.setattr(tasks, "record", record_then_lose_the_row)
    (result,) = run_queued()
    assert "no longer this run's" in result["skipped"]
    assert len(smtp.received) == 1 and EmailReceipt.objects.filter(message=message).count() == 1
    # The successor (recovered, enqueued again) mails the other two.
    Handover.objects.update(state="queued", queued_at=timezone.now())
    (pk,) = Handover.objects.values_list("pk", flat=True)
    tasks.deliver_email.call(message.pk, handover=pk)
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == [f"u{i}@example.com" for i in range(3)]


# -- a task QUEUED a lease ago: still waiting in the backend, or lost


@pytest.mark.django_db(transaction=True)
def test_a_task_still_waiting_in_the_queue_is_not_enqueued_again(settings):
    """Before: every QUEUED row older than a lease was enqueued once more at every recovery,
    however long the queue: the backend's queue grew by a copy per lease, forever."""
    settings.TASKS = DATABASE
    settings.INBOX_TASK_LEASE_SECONDS = 600
    pk = start(backends.record_run, 1)
    long_ago = timezone.now() - timedelta(seconds=3600)
    Handover.objects.filter(pk=pk).update(queued_at=long_ago)
    assert recover() == 0
    row = Handover.objects.get(pk=pk)
    assert (row.state, row.attempts) == ("queued", 0) and row.queued_at > long_ago


def test_a_task_that_never_starts_fails_after_the_last_attempt(settings, db):
    settings.TASKS = DUMMY  # cannot say whether it holds a task: each lease, enqueued again
    settings.INBOX_TASK_LEASE_SECONDS = 600
    settings.INBOX_DELIVERY_MAX_ATTEMPTS = 3
    pk = start(backends.record_run, 1)
    for attempt in (1, 2, 3):
        Handover.objects.filter(pk=pk).update(queued_at=timezone.now() - timedelta(seconds=601))
        assert recover() == 1
        row = Handover.objects.get(pk=pk)
        assert row.attempts == attempt and "Not started" in row.last_error
        if attempt < 3:
            assert row.state == "pending" and relay([pk]) == 1
    assert row.state == "failed" and relay() == 0


def test_a_heartbeat_is_written_once_a_tenth_of_a_lease_has_passed(settings, db, monkeypatch):
    """Not at every wave (a write per wave), nor never: recover() leaves a run that beats alone."""
    settings.TASKS = DUMMY
    settings.INBOX_TASK_LEASE_SECONDS = 600
    now = [1000.0]
    monkeypatch.setattr(outbox, "clock", lambda: now[0])
    pk = start(backends.beating, [0, 59, 61, 1])  # seconds between the beats
    (beats,) = run_queued()
    assert [at is not None for at in beats] == [False, False, True, True]
    assert beats[2] == beats[3]  # the fourth came 1 s after the third: not written
    assert not Handover.objects.filter(pk=pk).exists()  # done


def test_a_push_batch_beats_between_waves_and_stops_once_taken_over(
    settings, db, receiver, subscribe, monkeypatch, django_user_model
):
    from inbox.push import tasks

    settings.TASKS = DUMMY
    settings.INBOX_PUSH_WAVE_SIZE = 1
    settings.INBOX_TASK_LEASE_SECONDS = 0
    users = [django_user_model.objects.create_user(f"u{i}") for i in range(3)]
    for user in users:
        subscribe(user, user.username)
    message = notify(users, "Three", kind="mention").message
    Handover.objects.exclude(channel="push").delete()
    default_task_backend.clear()
    assert relay() == 1
    record_wave, waves = tasks.record_wave, []

    def record_then_lose_the_row(*args):
        record_wave(*args)
        waves.append(args)
        if len(waves) == 1:
            backends.take_over()

    monkeypatch.setattr(tasks, "record_wave", record_then_lose_the_row)
    (result,) = run_queued()
    assert "no longer this run's" in result["skipped"]
    assert len(receiver.received) == 1 and len(waves) == 1
    assert PushReceipt.objects.filter(message=message).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_retry_is_asked_about_by_its_own_enqueue(settings):
    """Before: the row kept the first enqueue's task id, so a retry still waiting in the queue was
    taken for lost (its first task had ended) and enqueued again every lease, then FAILED."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE
    settings.INBOX_TASK_LEASE_SECONDS = 600
    pk = start(backends.record_run, 1)
    first = Handover.objects.get(pk=pk).task_id
    DBTaskResult.objects.filter(id=first).update(status="FAILED")  # that run raised...
    Handover.objects.filter(pk=pk).update(state="pending", attempts=1)  # ...and is due again
    assert relay([pk]) == 1
    row = Handover.objects.get(pk=pk)
    assert row.task_id != first
    Handover.objects.filter(pk=pk).update(queued_at=timezone.now() - timedelta(seconds=3600))
    assert recover() == 0
    assert Handover.objects.get(pk=pk).state == "queued"
