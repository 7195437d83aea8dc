"""The push client (issue 19): connections to a push service are kept open between waves and
tasks, INBOX_PUSH_CONCURRENCY bounds the connections (and pushes in flight), and a slow push
service answer holds no other push. The local push service records the connection (client
address and port) each push came on."""

from __future__ import annotations

import time

import pytest

from inbox.api import notify
from inbox.push import client
from inbox.push.tasks import deliver_push

from .conftest import bind_to_sessions
from .receiver import PushReceiver


@pytest.fixture(autouse=True)
def no_pooled_connections():
    client.close_connections()  # a test counts the connections it opens
    yield
    client.close_connections()


def subscribe_many(django_user_model, subscribe, count: int):
    users = [django_user_model.objects.create_user(f"user{i:03d}") for i in range(count)]
    bind_to_sessions([(user, subscribe(user, f"u{i:03d}")) for i, user in enumerate(users)])
    return users


def test_connections_are_kept_between_waves_and_tasks(settings, django_user_model, receiver, subscribe):
    settings.INBOX_PUSH_CONCURRENCY = 4
    settings.INBOX_PUSH_WAVE_SIZE = 10
    users = subscribe_many(django_user_model, subscribe, 40)

    first = deliver_push.call(notify(users, "First").message.pk)  # four waves
    opened = {push["peer"] for push in receiver.received}
    second = deliver_push.call(notify(users, "Second").message.pk)  # another task

    assert first["sent"] == second["sent"] == 40
    assert 1 <= len(opened) <= 4  # no more connections than pushes in flight
    assert {push["peer"] for push in receiver.received} == opened  # the same ones, kept open


class AfterTheOthers:
    """A gate for the receiver: the held push is answered once every other push was received
    (or after 10 s, with a 503 that the test sees as a retry)."""

    def __init__(self, receiver: PushReceiver, others: int):
        self.receiver, self.others = receiver, others

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.receiver.lock:
                if len(self.receiver.received) >= self.others:
                    return True
            time.sleep(0.005)
        return False


def test_a_slow_push_service_answer_holds_no_other_push(settings, django_user_model, receiver, subscribe):
    """The first subscription's push is answered only after all the others arrived: with two
    in flight, the others go through the second one."""
    settings.INBOX_PUSH_CONCURRENCY = 2
    users = subscribe_many(django_user_model, subscribe, 12)  # u000 is first in the task's order
    receiver.hold("u000", AfterTheOthers(receiver, 11))

    result = deliver_push.call(notify(users, "Hello").message.pk)

    assert result == {"sent": 12, "attempt": 1}
    assert receiver.received[-1]["path"] == "/push/u000"
