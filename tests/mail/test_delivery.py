"""Immediate emails through a real SMTP server (aiosmtpd on loopback): what arrives, who gets it,
one connection per batch, receipts, retries on 4xx and bounces on 5xx."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.tasks import default_task_backend
from django.utils import timezone

from inbox.api import notify
from inbox.mail.models import EmailBounce, EmailReceipt
from inbox.mail.tasks import deliver_email
from inbox.mail.tokens import read_read, read_unsubscribe
from inbox.models import Notification
from inbox.preferences import set_choice
from tests.outbox.rows import forget_planned, planned


def queued():
    return [(r.task.name, r.args, r.task.run_after) for r in default_task_backend.results]


@pytest.fixture(autouse=True)
def empty_queue():
    default_task_backend.clear()


def test_notify_queues_the_email_on_commit_only(alice, address, django_capture_on_commit_callbacks):
    address(alice, "alice@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify(alice, "You were mentioned", kind="mention")
        assert queued() == []
    assert ("deliver_email", [sent.message.pk], None) in queued()


def test_a_kind_nobody_gets_by_email_queues_nothing(alice, address, django_capture_on_commit_callbacks):
    address(alice, "alice@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        notify(alice, "A build passed", kind="build.finished")  # email is off by default
    assert "deliver_email" not in [name for name, *_ in queued()]

    set_choice(alice, "build.finished", "email", True)
    with django_capture_on_commit_callbacks(execute=True):
        notify(alice, "Another build passed", kind="build.finished")
    assert [name for name, *_ in queued()].count("deliver_email") == 1


def test_an_email_as_it_arrives(alice, address, smtp):
    address(alice, "alice@example.com")
    sent = notify(alice, "Bob mentioned you in <Release notes>\nSecond line", url="/docs/42/", kind="mention")

    assert deliver_email.call(sent.message.pk) == {"sent": 1, "attempt": 1}

    (mail,) = smtp.received
    assert mail.rcpt_tos == ["alice@example.com"]
    assert mail.message["From"] == "Inbox <inbox@example.com>"
    assert mail.message["Subject"] == "Mentions: Bob mentioned you in <Release notes> Second line"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    # RFC 8058: an HTTPS URL in angle brackets, and the one-click POST body, as sent on the wire
    # (not an RFC 2047 encoded word, which providers would not read as a URL).
    raw = mail.raw.decode()
    (unsubscribe_url,) = re.findall(
        r"^List-Unsubscribe: <(https://inbox\.example\.com/inbox/mail/unsubscribe/\S+/)>\r?$", raw, re.M
    )
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = unsubscribe_url.rsplit("/", 2)[1]
    assert read_unsubscribe(token).user_id == alice.pk
    assert read_unsubscribe(token).kind == "mention"

    text, html = mail.text, mail.html
    notification = Notification.objects.get(recipient=alice)
    for part in (text, html):
        assert "Mentions" in part
        assert "https://inbox.example.com/docs/42/" in part
        assert "https://inbox.example.com/inbox/preferences/" in part
        assert unsubscribe_url in part
    assert "Bob mentioned you in <Release notes>" in text
    assert "Bob mentioned you in &lt;Release notes&gt;" in html  # escaped in HTML
    assert "<Release notes>" not in html
    (read_url,) = re.findall(r"Mark as read: (\S+)", text)
    assert read_url in html
    proof = read_read(read_url.rstrip("/").rsplit("/", 1)[1])
    assert (proof.user_id, proof.notification_id) == (alice.pk, notification.pk)
    assert EmailReceipt.objects.filter(message=sent.message, user=alice).exists()


def test_who_gets_it(alice, bob, staff, address, smtp):
    carol = User.objects.create_user("carol", email="carol@example.com")
    dave = User.objects.create_user("dave", email="dave@example.com")
    address(alice, "alice@example.com")  # wants it (the kind's default)
    set_choice(carol, "mention", "email", False)  # turned mention emails off
    # bob has no address
    sent = notify([alice, bob, carol, dave], "Hi all", kind="mention")
    Notification.objects.filter(recipient=dave).update(read_at=timezone.now())  # read before the email went

    assert deliver_email.call(sent.message.pk)["sent"] == 1
    assert [m.rcpt_tos for m in smtp.received] == [["alice@example.com"]]


def test_a_must_deliver_kind_reaches_everyone_and_has_no_unsubscribe(alice, address, smtp):
    address(alice, "alice@example.com")
    set_choice(alice, "security", "email", False)  # refused: the cell is locked
    sent = notify(alice, "New sign-in from Firefox", kind="security")

    deliver_email.call(sent.message.pk)

    (mail,) = smtp.received
    assert mail.message["List-Unsubscribe"] is None
    assert "Stop these emails" not in mail.text


def test_a_batch_goes_through_one_connection_and_a_large_audience_is_split(db, settings, address, smtp):
    settings.INBOX_MAIL_BATCH_SIZE = 4
    settings.INBOX_MAIL_WAVE_SIZE = 3
    users = [User.objects.create_user(f"u{i}", email=f"u{i}@example.com") for i in range(10)]
    sent = notify(users, "Ten of you", kind="mention")

    assert deliver_email.call(sent.message.pk) == {"planned": 3, "users": 10}
    batches = [args for _, args, _ in planned()]
    assert [len(ids) for _, ids, _ in batches] == [4, 4, 2]
    for args in batches:
        deliver_email.call(*args)

    assert smtp.connections == 3  # one per batch, not one per email
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == sorted(u.email for u in users)
    assert EmailReceipt.objects.filter(message=sent.message).count() == 10


def test_a_delivery_run_again_mails_nobody_twice(alice, bob, address, smtp):
    address(alice, "alice@example.com")
    address(bob, "bob@example.com")
    sent = notify([alice, bob], "Once", kind="mention")
    deliver_email.call(sent.message.pk)
    assert deliver_email.call(sent.message.pk) == {"sent": 0}
    assert deliver_email.call(sent.message.pk, [alice.pk, bob.pk], 2) == {"sent": 0}
    assert len(smtp.received) == 2


def test_a_4xx_is_retried_with_backoff_until_the_server_accepts(settings, alice, bob, address, smtp):
    settings.INBOX_MAIL_RETRY_BASE_SECONDS = 60
    address(alice, "alice@example.com")
    address(bob, "bob@example.com")
    smtp.refuse("bob@example.com", 450, times=2)
    sent = notify([alice, bob], "Busy mailbox", kind="mention")
    before = timezone.now()

    assert deliver_email.call(sent.message.pk) == {"sent": 1, "retry": 1, "attempt": 1}
    ((name, args, run_after),) = planned()
    assert (name, args) == ("deliver_email", [sent.message.pk, [bob.pk], 2])
    assert before + timedelta(seconds=59) < run_after < before + timedelta(seconds=65)

    forget_planned()
    assert deliver_email.call(*args) == {"retry": 1, "attempt": 2}
    ((_, args, run_after),) = planned()
    assert args == [sent.message.pk, [bob.pk], 3]
    assert run_after > before + timedelta(seconds=119)  # 60 s, then 120 s

    assert deliver_email.call(*args) == {"sent": 1, "attempt": 3}
    assert [m.rcpt_tos for m in smtp.received] == [["alice@example.com"], ["bob@example.com"]]
    assert not EmailBounce.objects.exists()
    assert Notification.objects.filter(read_at__isnull=True).count() == 2  # in-app untouched


def test_retries_stop_after_the_last_attempt(settings, alice, address, smtp, caplog):
    settings.INBOX_MAIL_MAX_ATTEMPTS = 2
    address(alice, "alice@example.com")
    smtp.refuse("alice@example.com", 451)
    sent = notify(alice, "Never accepted", kind="mention")

    assert deliver_email.call(sent.message.pk, [alice.pk], 2) == {"retry": 1, "attempt": 2}
    assert planned() == []
    assert "Giving up emailing message" in caplog.text


def test_a_server_that_cannot_be_reached_is_tried_again(alice, address, smtp_down):
    address(alice, "alice@example.com")
    sent = notify(alice, "Nobody listening", kind="mention")

    assert deliver_email.call(sent.message.pk) == {"retry": 1, "attempt": 1}
    assert [(name, args) for name, args, _ in planned()] == [
        ("deliver_email", [sent.message.pk, [alice.pk], 2])
    ]
    assert not EmailReceipt.objects.exists()


def test_a_5xx_records_a_bounce_and_stops_email_to_that_address(alice, bob, address, smtp):
    address(alice, "alice@example.com")
    address(bob, "gone@example.com")
    smtp.refuse("gone@example.com", 550)
    first = notify([alice, bob], "First", kind="mention")

    assert deliver_email.call(first.message.pk) == {"sent": 1, "bounce": 1, "attempt": 1}
    assert planned() == []  # a bounce is not retried
    bounce = EmailBounce.objects.get()
    assert (bounce.user, bounce.address, bounce.code) == (bob, "gone@example.com", 550)
    assert "No such user" in bounce.message

    smtp.refusals.clear()  # even if the server would take it now, nothing more is tried
    second = notify([alice, bob], "Second", kind="mention")
    assert deliver_email.call(second.message.pk) == {"sent": 1, "attempt": 1}
    assert [m.rcpt_tos for m in smtp.received] == [["alice@example.com"], ["alice@example.com"]]
    assert Notification.objects.filter(recipient=bob).count() == 2  # the inbox still gets everything

    address(bob, "bob@example.com")  # a new address: email starts again
    third = notify([bob], "Third", kind="mention")
    assert deliver_email.call(third.message.pk) == {"sent": 1, "attempt": 1}
    assert smtp.received[-1].rcpt_tos == ["bob@example.com"]


def test_a_deleted_or_expired_message_is_not_mailed(alice, address, smtp):
    address(alice, "alice@example.com")
    sent = notify(alice, "Soon gone", kind="mention", expires_at=timezone.now() + timedelta(hours=1))
    sent.message.expires_at = timezone.now() - timedelta(seconds=1)
    sent.message.save()
    assert "skipped" in deliver_email.call(sent.message.pk)
    assert "skipped" in deliver_email.call(10**12)
    assert smtp.received == []


def test_routing_and_the_batch_take_a_fixed_number_of_queries(
    db, settings, address, smtp, django_assert_num_queries
):
    settings.INBOX_MAIL_WAVE_SIZE = 100
    users = [User.objects.create_user(f"u{i}", email=f"u{i}@example.com") for i in range(30)]
    sent = notify(users, "Thirty", kind="mention")
    # the message, the pending recipients, their rows with addresses, one INSERT of receipts
    with django_assert_num_queries(4):
        assert deliver_email.call(sent.message.pk)["sent"] == 30
