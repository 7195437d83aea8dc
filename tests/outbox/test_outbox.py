"""Issue 19: the hand-over to push and email is written in notify()'s transaction, enqueued after
the commit, and by the worker's relay when that enqueue fails; a delivery that raises is retried
with backoff up to INBOX_DELIVERY_MAX_ATTEMPTS, then FAILED with its reason (admin, log)."""

from __future__ import annotations

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.tasks import default_task_backend
from django.template import TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone

from inbox import outbox
from inbox.api import notify
from inbox.mail.models import EmailReceipt
from inbox.outbox import Handover, recover, relay
from inbox.outbox.loop import relay_once
from inbox.push.models import PushReceipt

from . import backends
from .backends import BrokenQueue, FastWorkerBackend, FlappingBackend

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
FAILING = {"default": {"BACKEND": "tests.outbox.backends.FailingBackend"}}
DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def alice_reachable(alice, address, subscribe):
    """Alice with an email address and a browser subscribed to the local push service."""
    address(alice, "alice@example.com")
    subscribe(alice, "alice")
    return alice


def queued():
    return [(r.task.name, r.args, sorted(r.kwargs)) for r in default_task_backend.results]


def states():
    return sorted(Handover.objects.values_list("channel", "state"))


def run_queued():
    """Run what the dummy backend holds, as a worker would (exceptions raised)."""
    results = list(default_task_backend.results)
    default_task_backend.clear()
    for result in results:
        result.task.call(*result.args, **result.kwargs)


# -- the hand-over is written in the transaction, enqueued after the commit


def test_notify_records_push_and_email_before_the_commit_and_enqueues_them_after(
    alice_reachable, smtp, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify(alice_reachable, "You were mentioned", kind="mention")
        # In the transaction: the rows, nothing enqueued yet.
        assert states() == [("email", "pending"), ("push", "pending")]
        assert queued() == []
    assert states() == [("email", "queued"), ("push", "queued")]
    pk = sent.message.pk
    assert sorted(queued()) == [
        ("deliver_email", [pk], ["handover"]),
        ("deliver_push", [pk], ["handover"]),
    ]
    run_queued()
    assert len(receiver.received) == 1 and len(smtp.received) == 1
    assert not Handover.objects.exists()  # done: a row stays only while there is work to do


def test_a_rollback_records_nothing_and_sends_nothing(alice_reachable, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(alice_reachable, "Never committed", kind="mention")
        raise RuntimeError("the caller's transaction fails after notify()")
    assert callbacks == [] and queued() == []
    assert not Handover.objects.exists()
    assert relay() == 0


@pytest.mark.django_db(transaction=True)
def test_an_enqueue_that_raises_loses_nothing(settings, alice_reachable, receiver, smtp, caplog):
    settings.TASKS = FAILING  # the queue is down when notify() commits
    sent = notify(alice_reachable, "Queue down", kind="mention")

    assert "could not be enqueued, retried with backoff" in caplog.text
    rows = Handover.objects.order_by("channel")
    assert [(r.channel, r.state, r.attempts) for r in rows] == [
        ("email", "pending", 1),
        ("push", "pending", 1),
    ]
    assert all(BrokenQueue.__name__ in r.last_error for r in rows)
    assert all(r.next_attempt_at > timezone.now() for r in rows)  # after their backoff
    assert receiver.received == [] and smtp.received == []

    settings.TASKS = IMMEDIATE  # back up: the worker's relay pass after the backoff enqueues them
    due_now()
    assert relay_once() == 2
    (push,) = receiver.received
    assert push["payload"]["body"] == "Queue down"
    (mail,) = smtp.received
    assert mail.rcpt_tos == ["alice@example.com"]
    assert not Handover.objects.exists()
    assert relay_once() == 0 and len(receiver.received) == 1 and len(smtp.received) == 1
    assert PushReceipt.objects.filter(message=sent.message).count() == 1
    assert EmailReceipt.objects.filter(message=sent.message).count() == 1


def test_a_task_enqueued_twice_delivers_once(alice_reachable, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(alice_reachable, "Once")
    (result,) = [r for r in default_task_backend.results if r.task.name == "deliver_push"]
    assert result.task.call(*result.args, **result.kwargs) == {"sent": 1, "attempt": 1}
    skipped = result.task.call(*result.args, **result.kwargs)  # the same task, run again
    assert "no longer queued" in skipped["skipped"]
    assert len(receiver.received) == 1


def test_two_relays_enqueue_a_row_once(alice_reachable):
    notify(alice_reachable, "Once")  # the test's transaction never commits: no kick
    assert relay() == 1  # push only: "general" is not emailed by default
    assert relay() == 0
    assert [name for name, *_ in queued()] == ["deliver_push"]


@pytest.mark.django_db(transaction=True)
def test_a_queue_that_flaps_while_batches_are_planned_loses_no_batch(
    settings, address, smtp, django_user_model
):
    """The planner writes its batches in one transaction; each is enqueued on its own, and one
    whose enqueue failed is enqueued by the relay later (before: batches after a failed enqueue
    were never queued, and the planner ended FAILED)."""
    settings.TASKS = {"default": {"BACKEND": "tests.outbox.backends.FlappingBackend"}}
    FlappingBackend.calls = 0
    settings.INBOX_DELIVERY_RETRY_BASE_SECONDS = 0  # a failed enqueue is due again at once
    settings.INBOX_MAIL_BATCH_SIZE = 3
    users = [django_user_model.objects.create_user(f"u{i}", email=f"u{i}@example.com") for i in range(12)]
    notify(users, "Twelve of you", kind="mention")
    for _ in range(4):  # what a worker does meanwhile: run what is queued, relay what is due
        run_queued()
        relay_once()
    run_queued()
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == sorted(u.email for u in users)
    assert not Handover.objects.exists()


def test_inbox_relay_once_enqueues_what_is_due(alice_reachable):
    notify(alice_reachable, "Lost kick")  # the test's transaction never commits: no kick
    out = StringIO()
    call_command("inbox_relay", "--once", stdout=out)
    assert out.getvalue().strip() == "Enqueued 1 delivery."
    assert [name for name, *_ in queued()] == ["deliver_push"]
    assert states() == [("push", "queued")]


# -- a delivery that raises is retried with backoff, up to the cap, then FAILED


def fail_templates(monkeypatch, times: int):
    """The email's template raises the first `times` renders (a bug fixed by a deploy)."""
    from inbox.mail import tasks

    real, calls = tasks.notification_emails, []

    def broken(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise TemplateSyntaxError("Invalid block tag on line 3: 'endblok'")
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "notification_emails", broken)


def due_now():
    """The clock moves on: every pending row is due."""
    Handover.objects.filter(state="pending").update(next_attempt_at=timezone.now())


def test_a_delivery_that_raises_is_retried_with_backoff_then_failed(
    settings, alice, address, smtp, monkeypatch, caplog
):
    settings.INBOX_DELIVERY_MAX_ATTEMPTS = 3
    settings.INBOX_DELIVERY_RETRY_BASE_SECONDS = 30
    address(alice, "alice@example.com")
    fail_templates(monkeypatch, times=99)
    notify(alice, "Broken template", kind="mention")
    Handover.objects.filter(channel="push").delete()  # alice has no browser: email alone here
    waits = []
    for attempt in (1, 2, 3):
        assert relay() == 1
        before = timezone.now()
        with pytest.raises(TemplateSyntaxError):
            run_queued()
        row = Handover.objects.get()
        assert row.attempts == attempt and "endblok" in row.last_error
        if attempt < 3:
            assert row.state == "pending"
            waits.append((row.next_attempt_at - before).total_seconds())
            assert relay() == 0  # not before its time
            assert f"failed (attempt {attempt} of 3), retried in {30 * 2 ** (attempt - 1)} s" in caplog.text
            due_now()
    assert [round(w) for w in waits] == [30, 60]
    assert row.state == "failed" and row.finished_at is not None
    assert "TemplateSyntaxError: Invalid block tag on line 3: 'endblok'" in row.last_error
    assert "failed for good after 3 attempts" in caplog.text
    assert relay() == 0 and smtp.received == []


def test_a_blip_is_retried_and_delivers_once(alice, address, smtp, monkeypatch):
    address(alice, "alice@example.com")
    fail_templates(monkeypatch, times=1)
    sent = notify(alice, "After a blip", kind="mention")
    relay()
    with pytest.raises(TemplateSyntaxError):
        run_queued()
    due_now()
    assert relay() == 1
    run_queued()
    (mail,) = smtp.received
    assert mail.rcpt_tos == ["alice@example.com"]
    assert not Handover.objects.exists()
    assert EmailReceipt.objects.filter(message=sent.message).count() == 1


def test_planned_batches_are_retried_as_batches(settings, db, address, smtp, monkeypatch, django_user_model):
    """A batch that raises retries that batch alone; the planning task does not run again."""
    settings.INBOX_MAIL_BATCH_SIZE = 2
    users = [django_user_model.objects.create_user(f"u{i}", email=f"u{i}@example.com") for i in range(4)]
    notify(users, "Four of you", kind="mention")
    relay()
    run_queued()  # the planner: two batch rows, its own row gone, in one transaction
    assert sorted(len(args[1]) for args in Handover.objects.values_list("args", flat=True)) == [2, 2]
    fail_templates(monkeypatch, times=1)
    relay()
    results = list(default_task_backend.results)
    default_task_backend.clear()
    with pytest.raises(TemplateSyntaxError):
        results[0].task.call(*results[0].args, **results[0].kwargs)
    results[1].task.call(*results[1].args, **results[1].kwargs)
    (left,) = Handover.objects.all()
    assert left.state == "pending" and left.args == results[0].args
    due_now()
    relay()
    run_queued()
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == [u.email for u in users]
    assert not Handover.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_inbox_worker_retries_a_delivery_that_raised(settings, alice, address, smtp, monkeypatch):
    """The worker's relay enqueues the retry once its backoff has passed (0 s here)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.INBOX_DELIVERY_RETRY_BASE_SECONDS = 0
    address(alice, "alice@example.com")
    fail_templates(monkeypatch, times=1)
    notify(alice, "After a blip", kind="mention")
    call_command("inbox_worker", "--batch", "--no-startup-delay", verbosity=0)  # fails once
    assert Handover.objects.get(channel="email").state == "pending"
    call_command("inbox_worker", "--batch", "--no-startup-delay", verbosity=0)  # the retry
    (mail,) = smtp.received
    assert mail.rcpt_tos == ["alice@example.com"]
    assert not Handover.objects.exists()


# -- a worker that died: its rows come back after the lease


def test_recover_puts_back_what_a_dead_worker_held(settings, alice, caplog):
    settings.INBOX_TASK_LEASE_SECONDS = 600
    settings.INBOX_DELIVERY_MAX_ATTEMPTS = 3
    message = notify(alice, "x").message
    now = timezone.now()

    def row(state, ago, attempts=1):
        at = now - timedelta(seconds=ago)
        return Handover.objects.create(
            channel="push",
            message=message,
            task_path="inbox.push.tasks.deliver_push",
            args=[message.pk],
            state=state,
            attempts=attempts,
            queued_at=at,
            started_at=at if state == "running" else None,
        )

    Handover.objects.all().delete()
    stale, fresh, last = row("running", 601), row("running", 599), row("running", 3600, attempts=3)
    # Taken by a worker that died before it started it, or lost by the backend.
    lost, waiting = row("queued", 601, attempts=0), row("queued", 599, attempts=0)
    assert recover(now) == 3
    for each in (stale, fresh, last, lost, waiting):
        each.refresh_from_db()
    assert (stale.state, stale.next_attempt_at) == ("pending", now)
    assert "Abandoned" in stale.last_error
    assert fresh.state == "running"  # within its lease
    assert last.state == "failed" and "Abandoned" in last.last_error  # that was its last attempt
    assert (lost.state, lost.attempts) == ("pending", 1) and "Not started" in lost.last_error
    assert waiting.state == "queued"
    assert "1 queued again, 1 failed for good; never started: 1 queued again, 0 failed" in caplog.text
    assert recover(now) == 0


@pytest.mark.django_db(transaction=True)
def test_inbox_worker_logs_a_delivery_that_failed_for_good(
    settings, alice, address, smtp, monkeypatch, caplog
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.INBOX_DELIVERY_MAX_ATTEMPTS = 1
    address(alice, "alice@example.com")
    fail_templates(monkeypatch, times=99)
    notify(alice, "Broken", kind="mention")
    with caplog.at_level(logging.WARNING):
        call_command("inbox_worker", "--batch", "--no-startup-delay", verbosity=0)
    (row,) = Handover.objects.all()
    assert row.state == "failed" and "endblok" in row.last_error
    assert any(
        r.name == "inbox.outbox"
        and r.levelno == logging.ERROR
        and "failed for good after 1 attempts" in r.message
        for r in caplog.records
    )


# -- the admin shows what failed and why, and retries it


def test_the_admin_lists_failed_deliveries_with_their_reason_and_retries_them(admin_client, alice):
    message = notify(alice, "x").message
    Handover.objects.all().delete()
    failed = Handover.objects.create(
        channel="email",
        message=message,
        task_path="inbox.mail.tasks.deliver_email",
        args=[message.pk],
        state="failed",
        attempts=5,
        last_error="Traceback (most recent call last):\n  ...\nTemplateSyntaxError: 'endblok'",
    )
    Handover.objects.create(
        channel="push", message=message, task_path="inbox.push.tasks.deliver_push", args=[1]
    )
    url = reverse("admin:inbox_handover_changelist")

    page = admin_client.get(url, {"state__exact": "failed"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [failed]
    assert "TemplateSyntaxError: &#x27;endblok&#x27;" in page.text
    assert admin_client.get(url, {"state__exact": "nonsense"}).status_code in (200, 302)

    done = admin_client.post(url, {"action": "retry_now", "_selected_action": [failed.pk]})
    assert done.status_code == 302
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == ("pending", 0)
    assert admin_client.get(reverse("admin:inbox_handover_change", args=[failed.pk])).status_code == 200


def test_a_message_deleted_ends_its_deliveries(alice_reachable):
    sent = notify(alice_reachable, "Deleted before it went out", kind="mention")
    sent.message.delete()
    assert not Handover.objects.exists()
    assert outbox.relay() == 0


# -- a backend outside the database (RQ) hands the job to a worker before the claim commits


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two connections")
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_starts_before_the_claim_commits_runs_the_task(settings):
    """Before: the worker's UPDATE ... WHERE state = 'queued' saw the committed PENDING row,
    changed nothing and skipped; the claim then committed QUEUED, and nothing ran it for a lease."""
    settings.TASKS = {"default": {"BACKEND": "tests.outbox.backends.FastWorkerBackend"}}
    FastWorkerBackend.workers, FastWorkerBackend.outcomes, backends.RAN[:] = [], [], []
    pks = outbox.plan(backends.record_run, [[7]], channel="push", run_after=timezone.now())
    assert relay(pks) == 1  # the claim commits while the worker waits on the row
    (worker,) = FastWorkerBackend.workers
    worker.join()
    assert FastWorkerBackend.outcomes == [7] and backends.RAN == [7]
    assert not Handover.objects.exists()


# -- a worker stopped mid-run (SystemExit, KeyboardInterrupt) puts its row back at once


@pytest.mark.parametrize(("kind", "raised"), [("exit", SystemExit), ("ctrl-c", KeyboardInterrupt)])
def test_a_task_interrupted_mid_run_is_due_again_at_once_and_not_counted(settings, db, kind, raised):
    """Before: only Exception was caught, and the row stayed RUNNING for a whole lease."""
    settings.TASKS = DUMMY
    (pk,) = outbox.plan(backends.interrupted, [[kind]], channel="push", run_after=timezone.now())
    assert relay([pk]) == 1
    with pytest.raises(raised):
        run_queued()
    row = Handover.objects.get(pk=pk)
    assert (row.state, row.attempts) == ("pending", 0)
    assert row.next_attempt_at <= timezone.now() and "Interrupted" in row.last_error
    assert relay([pk]) == 1  # due now: the next relay pass enqueues it again


# -- an enqueue that always fails is retried with backoff, counted, and FAILED at the cap


def test_an_enqueue_that_always_fails_backs_off_and_fails_for_good(settings, db, caplog):
    """Before: the row stayed PENDING with the same next_attempt_at, first in every pass, logged
    every second and never failed; enough of them starved the relay of every other row."""
    settings.TASKS = FAILING
    settings.INBOX_DELIVERY_MAX_ATTEMPTS = 3
    settings.INBOX_DELIVERY_RETRY_BASE_SECONDS = 30
    (pk,) = outbox.plan(backends.record_run, [[1]], channel="push", run_after=timezone.now())
    waits = []
    for attempt in (1, 2, 3):
        before = timezone.now()
        assert relay() == 0
        row = Handover.objects.get(pk=pk)
        assert row.attempts == attempt and "BrokenQueue" in row.last_error
        if attempt < 3:
            assert row.state == "pending"
            waits.append((row.next_attempt_at - before).total_seconds())
            assert relay() == 0 and Handover.objects.get(pk=pk).attempts == attempt  # not before its time
            due_now()
    assert [round(w) for w in waits] == [30, 60]
    assert row.state == "failed" and row.finished_at is not None
    assert "Could not be enqueued" in row.last_error and "failed for good after 3 attempts" in caplog.text
    assert relay() == 0


def test_rows_whose_enqueue_fails_do_not_starve_the_others(settings, db):
    settings.TASKS = DUMMY
    broken = Handover.objects.bulk_create(
        Handover(channel="push", task_path="tests.outbox.backends.renamed_away", args=[i], kwargs={})
        for i in range(3)
    )
    (good,) = outbox.plan(backends.record_run, [[1]], channel="push", run_after=timezone.now())
    assert relay(limit=3) == 0  # the three broken rows fill a batch and fail (ImportError)
    assert relay(limit=3) == 1  # then wait their backoff: the good row's turn
    assert Handover.objects.get(pk=good).state == "queued"
    assert all(Handover.objects.get(pk=row.pk).attempts == 1 for row in broken)
