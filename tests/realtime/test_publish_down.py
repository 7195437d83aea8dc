"""Publishing while Redis is down or hung: the caller (a request, a command, the task worker)
never waits for it, and the log says once that the channel layer is down and once that it is back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time

import pytest

from inbox.realtime import events

from .fake_redis import REDIS_URL, HungRedis, closed_port_url, layer_settings, redis_or_skip

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outbox(monkeypatch, settings):
    """A publisher of this test's own, on the "layer" transport; probing again at once."""
    settings.INBOX_REALTIME_TRANSPORT = "layer"
    fresh = events.Outbox()
    monkeypatch.setattr(events, "_outbox", fresh)
    monkeypatch.setattr(events, "PROBE_SECONDS", 0)
    yield fresh
    if fresh.loop is not None:
        stop(fresh)


def stop(outbox: events.Outbox) -> None:
    """Close the publisher's connection and loop (a process's lives as long as the process)."""
    from channels.layers import get_channel_layer

    async def close_connection():
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await get_channel_layer().flush()

    outbox.wait(5)
    asyncio.run_coroutine_threadsafe(close_connection(), outbox.loop).result(5)
    outbox.loop.call_soon_threadsafe(outbox.loop.stop)
    deadline = time.monotonic() + 2
    while outbox.loop.is_running() and time.monotonic() < deadline:
        time.sleep(0.01)
    outbox.loop.close()


@pytest.fixture
def hung_redis():
    server = HungRedis()
    yield server
    server.close()


def outage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "inbox.realtime.events"]


def test_publishing_to_a_hung_redis_does_not_wait_for_it(outbox, settings, hung_redis, monkeypatch):
    monkeypatch.setattr(events, "PUBLISH_SECONDS", 60)  # the send hangs for a minute
    settings.CHANNEL_LAYERS = layer_settings(hung_redis.url, "inbox-test-hung")
    done = threading.Event()

    def request():  # a request thread that sends a notification
        events.sent(1)
        events.account(2)
        done.set()

    threading.Thread(target=request, daemon=True).start()
    assert hung_redis.accepted.wait(10), "the event was not sent to Redis"
    assert done.wait(10), "publishing waited for the hung Redis"
    assert outbox.pending == 2  # still hanging, in the publisher's loop


def test_a_hung_redis_is_one_outage_in_the_log(outbox, settings, hung_redis, monkeypatch, caplog):
    monkeypatch.setattr(events, "PUBLISH_SECONDS", 0.2)
    settings.CHANNEL_LAYERS = layer_settings(hung_redis.url, "inbox-test-hung")
    for user in range(5):
        events.account(user)
        assert outbox.wait(10)
    lines = outage_lines(caplog)
    assert len(lines) == 1 and "is down (TimeoutError" in lines[0], lines


def test_redis_down_is_logged_once_and_its_recovery_once(outbox, settings, caplog):
    settings.CHANNEL_LAYERS = layer_settings(closed_port_url(), "inbox-test-down")
    with caplog.at_level(logging.WARNING, "inbox.realtime.events"):
        for user in range(5):
            events.account(user)  # refused at once: neither raised nor waited for
            assert outbox.wait(10)
        lines = outage_lines(caplog)
        assert len(lines) == 1 and "is down (ConnectionError" in lines[0], lines
        assert [r.exc_info is not None for r in caplog.records] == [True]  # one traceback

        redis_or_skip()
        settings.CHANNEL_LAYERS = layer_settings(REDIS_URL, "inbox-test-back")
        for user in range(3):
            events.account(user)
            assert outbox.wait(10)
    lines = outage_lines(caplog)
    assert len(lines) == 2 and "is back after 5 failed tries" in lines[1], lines
