"""Digests through a real SMTP server: content, grouping, the cap, the cursor, idempotence,
and a number of queries per batch that does not grow with the batch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.api import notify
from inbox.conf import inbox_setting
from inbox.mail.digests import run_digests
from inbox.mail.models import EmailBounce
from inbox.mail.tasks import deliver_email
from inbox.models import Notification
from inbox.preferences import DigestSetting, set_choice


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.INBOX_DIGEST_SETTLE_SECONDS = 0


def due(user, **fields) -> DigestSetting:
    return DigestSetting.objects.create(
        user=user,
        frequency="daily",
        hour=8,
        timezone="UTC",
        next_due_at=timezone.now() - timedelta(minutes=1),
        **fields,
    )


def test_a_digest_groups_by_kind_newest_first(alice, address, smtp):
    address(alice, "alice@example.com")
    setting = due(alice)
    notify(alice, "Build 1 passed", kind="build.finished")
    notify(alice, "Bob mentioned you", kind="mention")
    notify(alice, "Build 2 failed", kind="build.finished")
    notify(alice, "Already read", kind="build.finished")
    Notification.objects.filter(message__text="Already read").update(read_at=timezone.now())

    assert run_digests() == {"sent": 1, "batches": 1}

    (mail,) = smtp.received
    assert mail.message["Subject"] == "Your digest: 3 unread notifications"
    text = mail.text
    assert (
        text.index("Builds")
        < text.index("Build 2 failed")
        < text.index("Build 1 passed")
        < text.index("Mentions")
    )
    assert text.index("Mentions") < text.index("Bob mentioned you")
    assert "Already read" not in text
    assert "more" not in text
    for part in (text, mail.html):
        assert "https://inbox.example.com/inbox/preferences/" in part
    assert mail.message["List-Unsubscribe"].startswith("<https://inbox.example.com/inbox/mail/unsubscribe/")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    setting.refresh_from_db()
    newest = Notification.objects.get(message__text="Already read")  # the newest row taken... is read
    newest_unread = Notification.objects.get(message__text="Build 2 failed")
    assert (setting.last_cursor_created, setting.last_cursor_id) == (newest_unread.created, newest_unread.pk)
    assert newest.pk > newest_unread.pk
    assert setting.last_sent_at is not None
    assert setting.next_due_at > timezone.now()
    assert setting.next_due_at.hour == 8


def test_a_digest_is_capped_with_and_n_more(settings, alice, address, smtp):
    settings.INBOX_DIGEST_MAX_ITEMS = 3
    address(alice, "alice@example.com")
    due(alice)
    for i in range(5):
        notify(alice, f"Note {i}", kind="build.finished")

    run_digests()

    (mail,) = smtp.received
    assert "You have 5 unread notifications." in mail.text
    assert [line for line in mail.text.splitlines() if line.startswith("- ")] == [
        "- Note 4",
        "- Note 3",
        "- Note 2",
    ]
    assert "...and 2 more" in mail.text
    assert "and 2 more" in mail.html


def test_the_cursor_sends_nothing_twice_and_skips_nothing(alice, address, smtp):
    address(alice, "alice@example.com")
    setting = due(alice)
    notify(alice, "First", kind="mention")
    run_digests()
    assert run_digests() == {}  # not due again until tomorrow

    DigestSetting.objects.filter(pk=setting.pk).update(next_due_at=timezone.now() - timedelta(seconds=1))
    assert run_digests() == {"nothing_new": 1, "batches": 1}  # nothing new: no email, cursor kept
    notify(alice, "Second", kind="mention")
    DigestSetting.objects.filter(pk=setting.pk).update(next_due_at=timezone.now() - timedelta(seconds=1))
    assert run_digests() == {"sent": 1, "batches": 1}

    first, second = smtp.received
    assert "First" in first.text and "Second" not in first.text
    assert "Second" in second.text and "First" not in second.text


def test_kinds_turned_off_and_notifications_already_emailed_are_left_out(alice, address, smtp):
    address(alice, "alice@example.com")
    due(alice)
    set_choice(alice, "build.finished", "digest", False)
    notify(alice, "A build", kind="build.finished")
    emailed = notify(alice, "Emailed at once", kind="mention")
    deliver_email.call(emailed.message.pk)
    notify(alice, "An announcement", kind="announcement")

    run_digests()

    immediate, digest = smtp.received
    assert "Emailed at once" in immediate.text
    assert "An announcement" in digest.text
    assert "A build" not in digest.text and "Emailed at once" not in digest.text


def test_users_without_an_address_or_with_a_bounced_one_are_counted_not_mailed(alice, bob, address, smtp):
    address(bob, "gone@example.com")
    EmailBounce.objects.create(user=bob, address="gone@example.com", code=550)
    for user in (alice, bob):
        due(user)
        notify(user, "Hello", kind="mention")

    assert run_digests() == {"no_address": 1, "bounced": 1, "batches": 1}
    assert smtp.received == []


def test_a_4xx_keeps_the_cursor_and_tries_again_at_the_next_run(settings, alice, bob, address, smtp):
    address(alice, "alice@example.com")
    address(bob, "bob@example.com")
    smtp.refuse("bob@example.com", 450, times=1)
    settings_of = {user: due(user) for user in (alice, bob)}
    for user in (alice, bob):
        notify(user, "Hello", kind="mention")

    assert run_digests() == {"sent": 1, "retry": 1, "batches": 1}
    bobs = DigestSetting.objects.get(pk=settings_of[bob].pk)
    assert bobs.last_cursor_id is None
    assert bobs.next_due_at <= timezone.now() + timedelta(seconds=inbox_setting("DIGEST_INTERVAL"))

    assert run_digests(now=bobs.next_due_at) == {"sent": 1, "batches": 1}
    assert [m.rcpt_tos for m in smtp.received] == [["alice@example.com"], ["bob@example.com"]]


def test_a_5xx_records_a_bounce(alice, address, smtp):
    address(alice, "gone@example.com")
    smtp.refuse("gone@example.com", 550)
    due(alice)
    notify(alice, "Hello", kind="mention")
    assert run_digests() == {"bounce": 1, "batches": 1}
    assert EmailBounce.objects.get().address == "gone@example.com"


def test_batches_take_a_fixed_number_of_queries_and_one_connection_each(settings, db, smtp):
    """Queries per batch do not depend on its size: 3 users or 12 users take as many."""
    settings.INBOX_DIGEST_BATCH_SIZE = 100

    def run_for(n: int) -> int:
        users = [User.objects.create_user(f"u{n}-{i}", email=f"u{n}-{i}@example.com") for i in range(n)]
        for user in users:
            due(user)
        notify(users, "For everyone", kind="mention")
        notify(users[: n // 2], "For half", kind="build.finished")
        with CaptureQueriesContext(connection) as queries:
            assert run_digests()["sent"] == n
        DigestSetting.objects.all().delete()
        return len(queries)

    connections_before = smtp.connections
    assert run_for(3) == run_for(12)
    assert smtp.connections == connections_before + 2


def test_many_batches(settings, db, smtp):
    settings.INBOX_DIGEST_BATCH_SIZE = 4
    users = [User.objects.create_user(f"u{i}", email=f"u{i}@example.com") for i in range(10)]
    for user in users:
        due(user)
    notify(users, "Hello", kind="mention")
    assert run_digests() == {"sent": 10, "batches": 3}
    assert smtp.connections == 3
    assert run_digests() == {}


def test_a_claimed_batch_is_not_taken_by_a_second_run(alice, address, smtp):
    """A run that died after claiming leaves the users to its lease: a second run skips them."""
    from inbox.mail.digests import claim

    address(alice, "alice@example.com")
    due(alice)
    notify(alice, "Hello", kind="mention")
    assert [s.user_id for s in claim(timezone.now(), 10).settings] == [alice.pk]
    assert run_digests() == {}
    assert smtp.received == []


def test_send_digests_command(alice, address, smtp):
    address(alice, "alice@example.com")
    due(alice)
    notify(alice, "Hello", kind="mention")
    from io import StringIO

    out = StringIO()
    call_command("send_digests", stdout=out)
    assert out.getvalue() == "Sent 1 digest (1 batches).\n"
    out = StringIO()
    call_command("send_digests", stdout=out)  # idempotent
    assert out.getvalue() == "Sent 0 digests.\n"


def test_send_digests_command_fails_when_the_server_does_not_take_them(alice, address, smtp_down):
    address(alice, "alice@example.com")
    due(alice)
    notify(alice, "Hello", kind="mention")
    with pytest.raises(CommandError, match="The mail server did not take them all"):
        call_command("send_digests")
    assert DigestSetting.objects.get().last_cursor_id is None


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_digests_without_cron(settings, smtp):
    """`manage.py inbox_worker` queues the digest run when it starts (then every
    INBOX_DIGEST_INTERVAL seconds); --batch runs what is queued and exits."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    alice = User.objects.create_user("alice", email="alice@example.com")
    due(alice)
    notify(alice, "Waiting for the digest", kind="build.finished")

    call_command("inbox_worker", "--batch", "--no-startup-delay", verbosity=0)

    (mail,) = smtp.received
    assert "Waiting for the digest" in mail.text
    run = DBTaskResult.objects.get(task_path="inbox.mail.tasks.send_due_digests")
    assert run.status == "SUCCESSFUL"
