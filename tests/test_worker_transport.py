"""`manage.py inbox_worker` says at start how its real-time events reach the pages: a worker
without the REDIS_URL the web processes use delivers nothing live, and nothing else says so."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # the worker's


def start(**options) -> str:
    """The worker in this process, --batch: it closes its database connections as it goes, which
    a test inside one transaction could not survive on PostgreSQL (hence transactional_db)."""
    out = StringIO()
    call_command("inbox_worker", "--batch", "--no-startup-delay", stdout=out, **options)
    return out.getvalue()


def test_without_redis_it_names_the_database_and_what_that_means(transactional_db, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert start().splitlines()[0] == (
        "Real-time events go through the database (no REDIS_URL): web processes that use Redis "
        "will not see them; give every process the same REDIS_URL."
    )


def test_with_redis_it_names_the_layer_and_never_the_url(transactional_db, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://:secret@127.0.0.1:1/0"]},
        }
    }
    output = start()
    assert "through the channel layer (channels_redis.pubsub.RedisPubSubChannelLayer)" in output
    assert "secret" not in output


def test_quiet_at_verbosity_0_and_without_real_time(transactional_db, leave_out):
    assert "Real-time" not in start(verbosity=0)
    leave_out("inbox.realtime")
    assert "Real-time" not in start()
