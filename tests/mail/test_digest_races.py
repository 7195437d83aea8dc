"""Digests once, whatever runs at the same time: two runs over the same due users, a run that
outlasts its lease and is taken over, a user who changes their schedule while their digest is
being sent, a batch sent again after its worker died. Counted at a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F
from django.utils import timezone

from inbox.api import notify
from inbox.conf import inbox_setting
from inbox.mail import digests
from inbox.mail.digests import run_digests
from inbox.mail.models import DigestReceipt
from inbox.models import Notification
from inbox.preferences import DigestSetting
from tests.web.test_preferences import DIGEST, PREFERENCES, default_grid

STARTED_LONG_AGO = timedelta(seconds=inbox_setting("TASK_LEASE_SECONDS") + 60)


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.INBOX_DIGEST_SETTLE_SECONDS = 0


def due_users(n: int, *, recent: int = 0) -> list[User]:
    """`n` users with an address, a daily digest due and one unread mention each, since before the
    start of a run that started long ago; the last `recent` of them became due a moment ago."""
    User.objects.bulk_create(User(username=f"d{i:04}", email=f"d{i:04}@example.com") for i in range(n))
    users = list(User.objects.filter(username__startswith="d").order_by("pk"))
    long_ago = timezone.now() - STARTED_LONG_AGO - timedelta(minutes=1)
    DigestSetting.objects.bulk_create(
        DigestSetting(
            user=u,
            frequency="daily",
            hour=8,
            timezone="UTC",
            next_due_at=timezone.now() - timedelta(seconds=30) if i >= n - recent else long_ago,
        )
        for i, u in enumerate(users)
    )
    notify(User.objects.filter(username__startswith="d"), "Waiting for your digest", kind="mention")
    Notification.objects.update(created=F("created") - STARTED_LONG_AGO - timedelta(minutes=2))
    return users


def mailed(smtp) -> Counter[str]:
    """How many digests each address received."""
    return Counter(address for mail in smtp.received for address in mail.rcpt_tos)


def state() -> list[tuple]:
    """What the runs leave in the database: every schedule, cursor and lease, every receipt."""
    settings = DigestSetting.objects.order_by("pk").values_list(
        "pk",
        "frequency",
        "hour",
        "next_due_at",
        "last_cursor_created",
        "last_cursor_id",
        "last_sent_at",
        "lease_token",
        "leased_until",
    )
    receipts = DigestReceipt.objects.order_by("pk").values_list("pk", "user_id", "due_at", "sent_at")
    return [*settings, *receipts]


@pytest.fixture
def meanwhile(monkeypatch):
    """meanwhile("send_batch" or "collect", action): run `action()` once, the first time the digest
    run reaches that step (its batch claimed, collected or in flight), then let the run go on."""

    def at(step: str, action):
        real = getattr(digests, step)
        done = []

        def step_with_action(*args, **kwargs):
            if not done:
                done.append(True)
                action()
            return real(*args, **kwargs)

        monkeypatch.setattr(digests, step, step_with_action)

    return at


@pytest.fixture
def later(monkeypatch):
    """later(action): run `action()` with the clock past every lease taken so far (the run that
    took them has outlasted them), then put the clock back."""
    real_now = timezone.now

    def run(action):
        shifted = real_now() + timedelta(seconds=inbox_setting("TASK_LEASE_SECONDS") + 1)
        monkeypatch.setattr(timezone, "now", lambda: shifted)
        try:
            return action()
        finally:
            monkeypatch.setattr(timezone, "now", real_now)

    return run


def test_a_run_that_started_long_ago_and_a_new_run_send_each_digest_once(settings, db, smtp, meanwhile):
    """The race, interleaved deterministically (any database): a run that started more than a
    lease ago claims a batch and composes it; a new run does all the rest before the first one
    sends it. Leases counted from the run's start had expired at the claim: the new run mailed
    that batch too."""
    settings.INBOX_DIGEST_BATCH_SIZE = 100
    users = due_users(1000)
    results = []
    meanwhile("send_batch", lambda: results.append(run_digests()))

    results.append(run_digests(now=timezone.now() - STARTED_LONG_AGO))

    counts = mailed(smtp)
    assert len(smtp.received) == 1000
    assert set(counts) == {u.email for u in users} and set(counts.values()) == {1}
    assert sum(r.get("sent", 0) for r in results) == 1000
    assert DigestReceipt.objects.count() == 1000
    assert not DigestSetting.objects.filter(next_due_at__lte=timezone.now()).exists()
    assert not DigestSetting.objects.filter(lease_token__isnull=False).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two runs in parallel need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_over_1000_due_users_send_1000_digests(settings, smtp):
    """Two runs in two threads at once (PostgreSQL: row locks, SKIP LOCKED), one of them started
    more than a lease ago. Half the users became due a moment ago: only the new run takes them,
    and it reaches them after the rows the old run holds (due order), so it meets the old run's
    leases while they are held. (Whether a batch is still in flight then is up to the scheduler;
    the interleaved test above makes that moment certain.)"""
    settings.INBOX_DIGEST_BATCH_SIZE = 50
    users = due_users(1000, recent=500)
    barrier = threading.Barrier(2)
    results = []

    def run(now):
        try:
            barrier.wait()
            results.append(run_digests(now=now))
        except Exception as error:
            results.append(repr(error))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(timezone.now() - STARTED_LONG_AGO,)),
        threading.Thread(target=run, args=(None,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(isinstance(r, dict) for r in results), results
    counts = mailed(smtp)
    assert len(smtp.received) == 1000
    assert set(counts) == {u.email for u in users} and set(counts.values()) == {1}
    assert sum(r.get("sent", 0) for r in results) == 1000
    assert all(r.get("sent") for r in results), "both runs took a share"


def test_a_run_that_outlasts_its_lease_is_taken_over_and_its_write_back_changes_nothing(
    settings, db, smtp, meanwhile, later
):
    """While the first batch is in flight its lease expires and a second run does everything:
    only that in-flight batch goes twice; the late run's write-back then changes nothing."""
    settings.INBOX_DIGEST_BATCH_SIZE = 10
    users = due_users(25)
    taken_over = {}

    def second_run():
        taken_over["counts"] = later(run_digests)
        taken_over["state"] = state()

    meanwhile("send_batch", second_run)
    first = run_digests()

    assert state() == taken_over["state"]
    assert taken_over["counts"] == {"sent": 25, "batches": 3}
    counts = mailed(smtp)
    in_flight = {u.email for u in users[:10]}
    assert {address for address, n in counts.items() if n == 2} == in_flight
    assert set(counts) == {u.email for u in users} and sum(counts.values()) == 35
    assert first == {"sent": 10, "taken_over": 10, "batches": 1}


def test_a_batch_sent_again_after_its_worker_died_mails_nobody_twice(settings, db, smtp, monkeypatch, later):
    """The worker dies after the SMTP server took the batch and before the write-back: the next
    run, once the lease has passed, mails nobody (the receipts) and moves the cursors on."""
    settings.INBOX_DIGEST_BATCH_SIZE = 10
    due_users(10)
    send_batch = digests.send_batch

    class Killed(BaseException):
        pass

    def send_then_die(*args, **kwargs):
        send_batch(*args, **kwargs)
        raise Killed

    monkeypatch.setattr(digests, "send_batch", send_then_die)
    with pytest.raises(Killed):
        run_digests()
    monkeypatch.setattr(digests, "send_batch", send_batch)
    assert len(smtp.received) == 10

    second = later(run_digests)

    assert len(smtp.received) == 10
    assert second == {"already_sent": 10, "batches": 1}
    for setting in DigestSetting.objects.all():
        receipt = DigestReceipt.objects.get(user=setting.user_id)
        assert (setting.last_cursor_created, setting.last_cursor_id) == (
            receipt.cursor_created,
            receipt.cursor_id,
        )
        assert setting.last_sent_at == receipt.sent_at
        assert setting.next_due_at > timezone.now() and setting.lease_token is None


def test_a_schedule_changed_while_its_digest_is_sent_is_kept(alice, alice_client, smtp, meanwhile):
    """Alice saves a weekly digest at 20:00 while the run mails her daily one: the digest goes out
    and moves her cursor; her schedule, and the next due time the form gave, stay hers."""
    alice.email = "alice@example.com"
    alice.save()
    DigestSetting.objects.create(
        user=alice, frequency="daily", hour=8, next_due_at=timezone.now() - timedelta(minutes=1)
    )
    notify(alice, "Hello", kind="mention")
    weekly = default_grid() | DIGEST | {"frequency": "weekly", "hour": "20", "weekday": "4"}
    saved = {}

    def save_the_form():
        assert alice_client.post(PREFERENCES, weekly).status_code == 302
        saved["next_due_at"] = DigestSetting.objects.get(user=alice).next_due_at

    meanwhile("send_batch", save_the_form)
    assert run_digests() == {"sent": 1, "batches": 1}

    assert len(smtp.received) == 1
    setting = DigestSetting.objects.get(user=alice)
    assert (setting.frequency, setting.hour, setting.weekday) == ("weekly", 20, 4)
    assert setting.next_due_at == saved["next_due_at"]
    assert (setting.next_due_at.weekday(), setting.next_due_at.hour) == (4, 20)
    assert setting.last_cursor_id is not None and setting.lease_token is None


def test_a_digest_turned_off_after_the_claim_is_not_sent(alice, alice_client, smtp, meanwhile):
    alice.email = "alice@example.com"
    alice.save()
    DigestSetting.objects.create(
        user=alice, frequency="daily", hour=8, next_due_at=timezone.now() - timedelta(minutes=1)
    )
    notify(alice, "Hello", kind="mention")

    def turn_it_off():
        assert alice_client.post(PREFERENCES, default_grid() | DIGEST).status_code == 302

    meanwhile("collect", turn_it_off)
    counts = run_digests()

    assert smtp.received == []
    assert counts == {"turned_off": 1, "batches": 1}
    setting = DigestSetting.objects.get(user=alice)
    assert (setting.frequency, setting.next_due_at, setting.last_cursor_id) == ("off", None, None)


def test_each_user_keeps_the_receipt_of_their_last_digest_only(alice, smtp):
    alice.email = "alice@example.com"
    alice.save()
    setting = DigestSetting.objects.create(
        user=alice, frequency="daily", hour=8, next_due_at=timezone.now() - timedelta(minutes=1)
    )
    slots = []
    for text in ("First", "Second", "Third"):
        notify(alice, text, kind="mention")
        slots.append(DigestSetting.objects.get(pk=setting.pk).next_due_at)
        assert run_digests() == {"sent": 1, "batches": 1}
        DigestSetting.objects.filter(pk=setting.pk).update(next_due_at=timezone.now() - timedelta(seconds=1))

    assert len(smtp.received) == 3
    (receipt,) = DigestReceipt.objects.all()
    assert receipt.due_at == slots[-1]
    assert receipt.cursor_id == DigestSetting.objects.get(pk=setting.pk).last_cursor_id
