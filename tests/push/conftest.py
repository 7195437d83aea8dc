"""Fixtures of the push tests: a local push service, and subscriptions to it."""

from __future__ import annotations

import pytest
from django.tasks import default_task_backend
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


def queued():
    return [(r.task.name, r.args) for r in default_task_backend.results]
