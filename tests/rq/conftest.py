"""Fixtures of the RQ tests: the real Redis (a database of its own: RQ's keys have no prefix,
and its queue is the tasks' "default"), the RQ task backend on it, a push receiver and an SMTP
server, and users subscribed to both. Skipped without Redis, except under CI=true."""

from __future__ import annotations

import os

import pytest
import redis

from tests.mail.conftest import Handler, serving
from tests.push.receiver import PushReceiver

# RQ's keys are not prefixed: these tests own this Redis database and empty it (override it
# with TEST_RQ_REDIS_URL when database 14 is taken on the test machine).
RQ_REDIS_URL = os.environ.get("TEST_RQ_REDIS_URL", "redis://127.0.0.1:6379/14")


def rq_settings() -> dict:
    """The settings config/settings.py makes for TASKS_BACKEND=rq, on the tests' Redis."""
    return {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend"}},
        "RQ_QUEUES": {"default": {"URL": RQ_REDIS_URL, "DEFAULT_TIMEOUT": 900}},
        "RQ": {"JOB_CLASS": "django_tasks_rq.Job", "WORKER_CLASS": "inbox.workers.Worker"},
    }


@pytest.fixture
def rq_redis():
    """The tests' Redis database, empty; skipped when Redis is down (failed under CI=true)."""
    connection = redis.Redis.from_url(RQ_REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {RQ_REDIS_URL}, and CI must run the RQ tests.")
        pytest.skip(f"Redis is not reachable at {RQ_REDIS_URL}")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def rq_backend(settings, rq_redis):
    """The task backend is django-tasks-rq's, on the tests' Redis."""
    for name, value in rq_settings().items():
        setattr(settings, name, value)
    return rq_redis


@pytest.fixture
def receiver(settings):
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True  # the receiver listens on http://127.0.0.1
    with PushReceiver() as running:
        yield running
    assert not running.rejected, running.rejected


@pytest.fixture
def smtp(settings):
    with serving(settings, Handler()) as handler:
        yield handler


def subscribe_all(receiver, users) -> None:
    """Each user: an email address and a push subscription to the receiver, bound to a live
    session (the worker's push sweep deletes unbound ones)."""
    from webpush.models import PushInformation, SubscriptionInfo

    from tests.push.conftest import bind_to_sessions

    infos = []
    for user in users:
        user.email = f"{user.username}@example.com"
        data = receiver.subscription(user.username)
        infos.append(
            SubscriptionInfo(
                browser="test",
                endpoint=data["endpoint"],
                p256dh=data["keys"]["p256dh"],
                auth=data["keys"]["auth"],
            )
        )
    type(users[0]).objects.bulk_update(users, ["email"])
    infos = SubscriptionInfo.objects.bulk_create(infos)
    PushInformation.objects.bulk_create(
        PushInformation(user=user, subscription=info) for user, info in zip(users, infos, strict=True)
    )
    bind_to_sessions(list(zip(users, infos, strict=True)))
