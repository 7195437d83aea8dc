"""Fixtures of the push tests: a local push service, and subscriptions to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.tasks import default_task_backend
from django.utils import timezone
from webpush.models import PushInformation, SubscriptionInfo

from .receiver import PushReceiver


@pytest.fixture
def receiver(settings):
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True  # the receiver listens on http://127.0.0.1
    default_task_backend.clear()
    with PushReceiver() as running:
        yield running
    assert not running.rejected, running.rejected


@pytest.fixture
def subscribe(receiver):
    def make(user, name):
        data = receiver.subscription(name)
        info = SubscriptionInfo.objects.create(
            browser="test",
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
        )
        PushInformation.objects.create(user=user, subscription=info)
        return info

    return make


def bind_to_sessions(pairs) -> None:
    """Bind each (user, subscription) to a session of its own, as push/subscribe/ does: the
    worker's sweep deletes a subscription bound to no session."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils.crypto import get_random_string

    from inbox.push.models import PushSession

    expiry = timezone.now() + timedelta(days=1)
    data = SessionStore().encode({})
    keys = [get_random_string(32) for _ in pairs]
    Session.objects.bulk_create(Session(session_key=k, session_data=data, expire_date=expiry) for k in keys)
    PushSession.objects.bulk_create(
        PushSession(subscription=info, user=user, session_key=key, auth_hash=user.get_session_auth_hash())
        for (user, info), key in zip(pairs, keys, strict=True)
    )


def queued():
    return [(r.task.name, r.args) for r in default_task_backend.results]
