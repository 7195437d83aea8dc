from __future__ import annotations

import pytest
from django.core import signing
from django.urls import reverse

from inbox.api import notify
from inbox.models import Message, Notification
from inbox.push.tokens import READ_TOKEN_SALT
from inbox.signals import notification_read, notification_sent


@pytest.fixture
def heard():
    """What the two signals said, as (signal name, keyword arguments) pairs."""
    calls = []

    def sent(sender, **kwargs):
        calls.append(("sent", sender, kwargs))

    def read(sender, **kwargs):
        calls.append(("read", sender, kwargs))

    notification_sent.connect(sent)
    notification_read.connect(read)
    yield calls
    notification_sent.disconnect(sent)
    notification_read.disconnect(read)


def test_notification_sent_after_the_commit(alice, bob, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify([alice, bob], "Deploy at 17:00")
        assert heard == []
    assert heard == [("sent", Message, {"signal": notification_sent, "message": sent.message, "count": 2})]


def test_notification_read_from_the_dashboard(alice_client, alice, heard, django_capture_on_commit_callbacks):
    notification = Notification.objects.get(message=notify(alice, "Hi").message)
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("inbox:mark_read", args=[notification.pk]))
        alice_client.post(reverse("inbox:mark_read", args=[notification.pk]))  # already read: silent
    assert [
        (name, kwargs["user_id"], kwargs["notification_ids"], kwargs["all_read"]) for name, _, kwargs in heard
    ] == [("read", alice.pk, (notification.pk,), False)]


def test_notification_read_for_mark_all(alice_client, alice, heard, django_capture_on_commit_callbacks):
    notify(alice, "One")
    notify(alice, "Two")
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("inbox:mark_all_read"))
        alice_client.post(reverse("inbox:mark_all_read"))  # nothing left unread: silent
    assert [
        (kwargs["user_id"], kwargs["notification_ids"], kwargs["all_read"]) for _, _, kwargs in heard
    ] == [(alice.pk, (), True)]


def test_notification_read_from_a_push(client, alice, heard, django_capture_on_commit_callbacks):
    notification = Notification.objects.get(message=notify(alice, "Hi").message)
    heard.clear()
    token = signing.dumps(notification.pk, salt=READ_TOKEN_SALT, compress=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("inbox:push_read"), {"token": token}, content_type="application/json")
    assert response.status_code == 204
    assert [(kwargs["user_id"], kwargs["notification_ids"]) for _, _, kwargs in heard] == [
        (alice.pk, (notification.pk,))
    ]
