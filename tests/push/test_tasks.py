from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from webpush.models import SubscriptionInfo

from inbox.api import notify
from inbox.models import Notification
from inbox.push.tasks import deliver_push
from inbox.push.tasks import payload as push_payload
from inbox.push.tokens import READ_TOKEN_SALT
from tests.outbox.rows import planned

from .conftest import queued


def test_notify_queues_delivery_on_commit_only(alice, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sent = notify(alice, "Hello")
        assert queued() == []  # nothing leaves before the commit
    # notification_sent, the after-commit channels (real time), then the outbox's rows enqueued
    assert len(callbacks) == 3
    assert queued() == [("deliver_push", [sent.message.pk])]


def test_a_push_without_a_link_opens_the_inbox(alice):
    sent = notify(alice, "No link")
    assert push_payload(sent.message, sent.message.pk, 1)["url"] == reverse("inbox:index")


def test_a_push_round_trip(alice, bob, receiver, subscribe):
    subscribe(alice, "alice-laptop")
    subscribe(alice, "alice-phone")  # one user, several browsers
    subscribe(bob, "bob")
    sent = notify([alice], "Disk almost full", url="/inbox/", level="warning")
    notify([alice], "Older one")

    result = deliver_push.call(sent.message.pk)

    assert result["sent"] == 2
    assert sorted(p["path"] for p in receiver.received) == ["/push/alice-laptop", "/push/alice-phone"]
    push = receiver.received[0]
    notification = Notification.objects.get(recipient=alice, message=sent.message)
    payload = push["payload"]
    assert payload["title"] == "Inbox · Warning"
    assert payload["body"] == "Disk almost full"
    assert payload["url"] == "/inbox/"
    assert payload["id"] == notification.pk
    assert payload["unread"] == 2
    assert signing.loads(payload["read_token"], salt=READ_TOKEN_SALT) == notification.pk
    assert push["signer"] == django_settings.WEBPUSH_SETTINGS["VAPID_PUBLIC_KEY"]
    assert push["claims"]["sub"] == "mailto:push-tests@example.com"
    assert (push["urgency"], push["topic"]) == ("normal", "inbox")
    assert 0 < push["ttl"] <= 24 * 3600


def test_ttl_never_outlives_the_message_and_urgency_follows_the_level(alice, receiver, subscribe):
    subscribe(alice, "a")
    sent = notify(alice, "Outage", level="error", expires_at=timezone.now() + timedelta(minutes=10))
    deliver_push.call(sent.message.pk)
    (push,) = receiver.received
    assert push["urgency"] == "high"
    assert 590 <= push["ttl"] <= 600


def test_many_subscriptions_are_all_sent(db, receiver, subscribe, django_user_model):
    users = [django_user_model.objects.create(username=f"u{i}") for i in range(40)]
    for user in users:
        subscribe(user, user.username)
    sent = notify(django_user_model.objects.all(), "Broadcast")
    assert deliver_push.call(sent.message.pk)["sent"] == 40
    assert len(receiver.received) == 40


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscriptions_are_removed_and_others_still_get_it(alice, bob, receiver, subscribe, status):
    subscribe(alice, "stale")
    subscribe(bob, "fresh")
    receiver.reply("stale", status)
    sent = notify([alice, bob], "Hello")
    result = deliver_push.call(sent.message.pk)
    assert result["gone"] == 1 and result["sent"] == 1
    assert [p["path"] for p in receiver.received] == ["/push/fresh"]
    assert list(SubscriptionInfo.objects.values_list("endpoint", flat=True)) == [
        receiver.origin + "/push/fresh"
    ]
    assert Notification.objects.filter(recipient=alice).exists()  # the in-app notification stays


def test_429_is_retried_after_retry_after(alice, receiver, subscribe):
    info = subscribe(alice, "busy")
    receiver.reply("busy", 429, Retry_After=120)
    sent = notify(alice, "Hello")
    before = timezone.now()
    assert deliver_push.call(sent.message.pk)["retry"] == 1
    ((_, args, run_after),) = planned()  # a row of the outbox, enqueued by the relay when due
    assert args == [sent.message.pk, [info.pk], 2]
    assert before + timedelta(seconds=119) <= run_after <= timezone.now() + timedelta(seconds=121)
    assert SubscriptionInfo.objects.filter(pk=info.pk).exists()
    # The retry delivers once the service is back.
    assert deliver_push.call(*args)["sent"] == 1
    assert len(receiver.received) == 1


def test_a_retry_sends_only_to_the_subscriptions_that_failed(alice, receiver, subscribe):
    subscribe(alice, "laptop")
    phone = subscribe(alice, "phone")
    sent = notify(alice, "Hello")
    assert deliver_push.call(sent.message.pk, [phone.pk], 2)["sent"] == 1
    assert [p["path"] for p in receiver.received] == ["/push/phone"]


def test_5xx_backs_off_exponentially_and_gives_up(settings, alice, receiver, subscribe):
    settings.INBOX_PUSH_MAX_ATTEMPTS = 3
    info = subscribe(alice, "down")
    for _ in range(3):
        receiver.reply("down", 503)
    sent = notify(alice, "Hello")
    deliver_push.call(sent.message.pk)
    deliver_push.call(sent.message.pk, [info.pk], 2)
    (_, _, first), (_, args, second) = planned()
    assert args == [sent.message.pk, [info.pk], 3]
    assert second - first > timedelta(seconds=25)  # 30 s, then 60 s
    assert deliver_push.call(sent.message.pk, [info.pk], 3) == {"retry": 1, "attempt": 3}
    assert len(planned()) == 2  # the last attempt queues nothing more
    assert Notification.objects.filter(recipient=alice).exists()


def test_an_unreachable_service_is_retried(alice, receiver, subscribe):
    info = subscribe(alice, "a")
    SubscriptionInfo.objects.filter(pk=info.pk).update(
        endpoint="http://127.0.0.1:9/push/a"
    )  # nothing listens
    sent = notify(alice, "Hello")
    assert deliver_push.call(sent.message.pk)["retry"] == 1


@pytest.mark.parametrize(
    "endpoint",
    ["https://10.0.0.8/push", "https://169.254.169.254/latest", "https://[fd00::1]/push", "http://8.8.8.8/x"],
)
def test_a_private_or_plain_http_endpoint_is_never_contacted(alice, receiver, subscribe, endpoint):
    info = subscribe(alice, "a")
    SubscriptionInfo.objects.filter(pk=info.pk).update(endpoint=endpoint)
    sent = notify(alice, "Hello")
    assert deliver_push.call(sent.message.pk)["failed"] == 1
    assert SubscriptionInfo.objects.exists()  # kept: only a 404/410 from the push service removes it


def test_loopback_is_refused_unless_allowed(settings, alice, receiver, subscribe):
    subscribe(alice, "a")
    settings.INBOX_PUSH_ALLOW_LOOPBACK = False
    sent = notify(alice, "Hello")
    assert deliver_push.call(sent.message.pk)["failed"] == 1
    assert receiver.received == []


def test_nothing_is_pushed_for_read_or_expired_messages(alice, receiver, subscribe):
    subscribe(alice, "a")
    read = notify(alice, "Already read")
    Notification.objects.update(read_at=timezone.now())
    assert deliver_push.call(read.message.pk) == {"sent": 0}
    soon = notify(alice, "Gone soon", expires_at=timezone.now() + timedelta(seconds=1))
    soon.message.__class__.objects.filter(pk=soon.message.pk).update(expires_at=timezone.now())
    assert "skipped" in deliver_push.call(soon.message.pk)
    assert receiver.received == []


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_delivers(settings, alice, receiver, subscribe):
    """The default backend end to end: notify() commits, the task is stored, db_worker runs it."""
    from django.core.management import call_command

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    subscribe(alice, "a")
    notify(alice, "Through the queue")
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    (push,) = receiver.received
    assert push["payload"]["body"] == "Through the queue"


def test_info_is_pushed_with_normal_urgency_and_low_only_where_a_kind_asks(alice, receiver, subscribe):
    """Urgency: low means "only on power and Wi-Fi": not for the default level."""
    from inbox import kinds

    subscribe(alice, "a")
    deliver_push.call(notify(alice, "A plain note").message.pk)
    kinds.register("newsletter", "Newsletter", push_urgency="low")
    try:
        deliver_push.call(notify(alice, "This week", kind="newsletter").message.pk)
    finally:
        kinds.unregister("newsletter")
    assert [push["urgency"] for push in receiver.received] == ["normal", "low"]


def test_a_kind_with_an_unknown_urgency_is_refused():
    from inbox import kinds

    with pytest.raises(ValueError, match="push_urgency must be one of very-low, low, normal, high"):
        kinds.register("x", "X", push_urgency="urgent")
