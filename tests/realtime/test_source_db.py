"""The "database" transport: nothing skipped, nothing twice, old events pruned."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inbox.realtime import events, source_db
from inbox.realtime.models import RealtimeEvent

from .conftest import db, run

pytestmark = pytest.mark.django_db(transaction=True)


def event(name: str) -> RealtimeEvent:
    return RealtimeEvent.objects.create(payload={"type": "test", "name": name})


def names(payloads) -> list[str]:
    return [p["name"] for p in payloads]


def test_a_new_hub_starts_at_now_then_reads_each_event_once_in_order():
    event("before")
    source = source_db.DatabaseSource(hub=None)
    source.start()
    assert source.poll() == []  # what came before is the hello's catch-up, not the hub's
    event("one"), event("two")
    assert names(source.poll()) == ["one", "two"]
    assert source.poll() == []
    event("three")
    assert names(source.poll()) == ["three"]


def test_the_seen_ids_are_only_those_inside_the_window():
    source = source_db.DatabaseSource(hub=None)
    source.start()
    old = event("old")
    RealtimeEvent.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(minutes=1))
    event("new")
    assert names(source.poll()) == ["old", "new"]  # the first read has no window yet
    assert list(source.seen) == [RealtimeEvent.objects.get(payload__name="new").pk]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(source_db, "BATCH", 2)
        for i in range(5):
            event(f"burst {i}")
        assert names(source.poll()) == ["burst 0", "burst 1"]  # a batch at a time, the rest next
        assert names(source.poll()) == ["burst 2", "burst 3"]
        assert names(source.poll()) == ["burst 4"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL commits out of id order")
def test_an_event_committed_after_a_higher_id_is_not_skipped():
    source = source_db.DatabaseSource(hub=None)
    source.start()
    inserted, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                event("took the lower id, commits last")
                inserted.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(10)
    event("took the higher id, commits first")
    assert names(source.poll()) == ["took the higher id, commits first"]
    release.set()
    assert done.wait(10)
    writer.join()
    assert names(source.poll()) == ["took the lower id, commits last"]
    assert source.poll() == []


def test_old_events_are_pruned(settings):
    settings.INBOX_REALTIME_EVENT_MINUTES = 5
    stale, fresh = event("stale"), event("fresh")
    RealtimeEvent.objects.filter(pk=stale.pk).update(created=timezone.now() - timedelta(minutes=6))
    assert events.prune() == 1
    assert list(RealtimeEvent.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_publishing_never_raises(monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(RealtimeEvent.objects, "create", broken)
    events.sent(1)  # logged, not raised: the notification is committed already
    assert "Could not publish the real-time event sent" in caplog.text


def test_purge_notifications_deletes_old_events_too(settings):
    from io import StringIO

    from django.core.management import call_command

    stale, fresh = event("stale"), event("fresh")
    RealtimeEvent.objects.filter(pk=stale.pk).update(created=timezone.now() - timedelta(minutes=6))
    call_command("purge_notifications", "--dry-run", stdout=StringIO())
    assert RealtimeEvent.objects.count() == 2  # a dry run deletes nothing
    call_command("purge_notifications", stdout=StringIO())
    assert list(RealtimeEvent.objects.values_list("pk", flat=True)) == [fresh.pk]


def burst(count: int, per_transaction: int = 1000) -> None:
    """`count` events written as fast as a loop of notify() calls would (about a second here),
    in transactions of `per_transaction`, through publish() as every writer does."""
    for start in range(0, count, per_transaction):
        with transaction.atomic():
            for i in range(start, min(start + per_transaction, count)):
                events.publish({"type": "test", "name": f"burst {i}"})


def test_a_burst_of_10000_events_is_read_whole_and_in_order_then_the_next_at_once():
    """Beyond 1,000 events inside the window the old poll stopped excluding the ids it had seen
    in SQL, read the window's same first 500 rows every time and never moved again: real time
    stopped for minutes after a loop of notify() calls."""
    source = source_db.DatabaseSource(hub=None)
    source.start()
    burst(10_000)
    got, polls = [], 0
    while len(got) < 10_000 and polls < 10_000 // source_db.BATCH + 5:
        got += names(source.poll())
        polls += 1
    assert got == [f"burst {i}" for i in range(10_000)], f"{len(got)} events in {polls} polls"
    assert source.poll() == [] and not source.behind
    event("the next one")
    assert names(source.poll()) == ["the next one"]  # the very next read has it
    assert len(source.seen) <= 10_001  # the window's ids only


def test_the_hub_reads_a_burst_without_waiting_between_full_batches(settings):
    """run(): a full batch is dispatched and the next read follows at once; the event after the
    burst reaches the hub within two polls of the burst's last one."""
    settings.INBOX_REALTIME_POLL_SECONDS = 0.05

    class Hub:
        def __init__(self):
            self.names: list[str] = []
            self.polls = 0

    hub = Hub()
    source = source_db.DatabaseSource(hub)
    counted_poll = source.poll

    def poll():
        hub.polls += 1
        return counted_poll()

    source.poll = poll

    async def dispatch(payloads):
        hub.names.extend(names(payloads))

    hub.dispatch = dispatch

    async def scenario():
        task = asyncio.get_running_loop().create_task(source.run())
        try:
            while not hub.polls:  # started: a burst from now on is the hub's to read
                await asyncio.sleep(0.01)
            await db(burst)(10_000)
            while len(hub.names) < 10_000:
                await asyncio.sleep(0.01)
                assert hub.polls < 10_000 // source_db.BATCH + 50, f"stuck at {len(hub.names)} events"
            after_burst = hub.polls
            await db(event)("the next one")
            while hub.names[-1] != "the next one":
                await asyncio.sleep(0.01)
            assert hub.polls - after_burst <= 2
        finally:
            task.cancel()

    run(scenario)
    assert hub.names == [f"burst {i}" for i in range(10_000)] + ["the next one"]
