"""What the web actions, the push "read" endpoint and logging out publish (the "database"
transport's table shows it), and which tab is named as the one that acted."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from inbox.api import notify
from inbox.models import Notification
from inbox.realtime.events import session_hash
from inbox.realtime.models import RealtimeEvent

pytestmark = pytest.mark.django_db(transaction=True)


def published() -> list[dict]:
    return list(RealtimeEvent.objects.order_by("id").values_list("payload", flat=True))


@pytest.fixture
def note(users):
    notify(users["alice"], "Hello")
    RealtimeEvent.objects.all().delete()
    return Notification.objects.get(recipient=users["alice"])


def client_for(user, **headers) -> Client:
    client = Client(headers=headers)
    client.force_login(user)
    return client


def test_notify_publishes_one_sent_event_whatever_the_number_of_recipients(users):
    sent = notify(list(users.values()), "To everyone")
    assert published() == [{"type": "sent", "message": sent.message.pk}]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("read", {"read": "id"}),
        ("delete", {"deleted": "id"}),
    ],
)
def test_each_action_publishes_what_changed_and_the_acting_tab(users, note, action, expected):
    client = client_for(users["alice"], **{"X-Inbox-Tab": "tab_A-1"})
    client.post(f"/inbox/{note.pk}/{action}/", {"place": "all"})
    event = {"type": "changed", "user": users["alice"].pk, "read": [], "unread": [], "deleted": []}
    event.update({key: [note.pk] for key in expected})
    assert published() == [{**event, "all_read": False, "tab": "tab_A-1"}]


def test_unread_and_mark_all_read_publish_too(users, note):
    client = client_for(users["alice"], **{"X-Inbox-Tab": "t"})
    client.post(f"/inbox/{note.pk}/read/", {"place": "all"})
    client.post(f"/inbox/{note.pk}/unread/", {"place": "all"})
    client.post("/inbox/read-all/", {"place": "all"})
    events = published()
    assert [e["read"] for e in events] == [[note.pk], [], []]
    assert [e["unread"] for e in events] == [[], [note.pk], []]
    assert [e["all_read"] for e in events] == [False, False, True]


def test_an_action_that_changes_nothing_publishes_nothing(users, note):
    client = client_for(users["alice"])
    client.post(f"/inbox/{note.pk}/unread/", {"place": "all"})  # it is unread already
    client.post("/inbox/read-all/", {"place": "all"})
    client.post("/inbox/read-all/", {"place": "all"})  # nothing left to read
    assert [e["all_read"] for e in published()] == [True]


@pytest.mark.parametrize("tab", ["", "x" * 65, "a\x00b", "<script>", "tab é"])
def test_a_bad_tab_header_names_no_tab(users, note, tab):
    client = client_for(users["alice"], **{"X-Inbox-Tab": tab})
    assert client.post(f"/inbox/{note.pk}/read/", {"place": "all"}).status_code == 302
    assert published()[0]["tab"] == ""  # every tab gets the update


def test_logging_out_publishes_the_sessions_hash_not_its_key(users):
    client = client_for(users["alice"])
    key = client.session.session_key
    client.post("/accounts/logout/")
    assert published() == [{"type": "logout", "session": session_hash(key)}]
    assert key not in str(published())


def test_logging_out_anonymously_publishes_nothing(client):
    client.post("/accounts/logout/")
    assert published() == []


def test_events_from_synchronous_code_reach_redis_over_one_connection(settings):
    """A command or a WSGI request publishes through the process's publisher loop: every event
    arrives, and the channel layer's connection to Redis is opened once, not once per event."""
    import asyncio
    import os
    import subprocess
    import sys

    import redis
    from channels.layers import get_channel_layer

    from inbox.realtime.events import publish
    from inbox.realtime.transport import GROUP

    url = "redis://127.0.0.1:6379/0"
    if subprocess.run([sys.executable, "scripts/reachable.py", url]).returncode:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {url}, and CI must run the Redis transport tests.")
        pytest.skip(f"Redis is not reachable at {url}")
    settings.INBOX_REALTIME_TRANSPORT = "layer"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": f"inbox-test-{os.getpid()}"},
        }
    }
    connections = redis.Redis.from_url(url)
    layer = get_channel_layer()

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add(GROUP, channel)
        before = connections.info("stats")["total_connections_received"]

        def publish_all():  # a plain thread, as a command's or a WSGI request's
            for user in range(20):
                publish({"type": "account", "user": user})

        await asyncio.to_thread(publish_all)
        received = [(await asyncio.wait_for(layer.receive(channel), 5))["event"]["user"] for _ in range(20)]
        opened = connections.info("stats")["total_connections_received"] - before
        await layer.group_discard(GROUP, channel)
        await layer.flush()
        return opened, received

    try:
        opened, received = async_to_sync(scenario)()
    finally:
        connections.close()
    assert received == list(range(20))
    assert opened <= 1  # the first event's connection (none if an earlier test opened it)


def test_the_publisher_loop_is_one_per_process(monkeypatch):
    """Kept for the process's life; a forked child (a server's worker) forgets its parent's,
    whose thread it does not have, and starts its own."""
    import asyncio
    import time

    from inbox.realtime import events

    monkeypatch.setattr(events, "_outbox", events.Outbox())  # this test's loops only; restored after

    def alive(loop) -> bool:
        return asyncio.run_coroutine_threadsafe(asyncio.sleep(0, "alive"), loop).result(2) == "alive"

    loop = events._outbox._loop()
    assert events._outbox._loop() is loop and alive(loop)
    events._forget_publisher()  # what os.register_at_fork runs in a child
    child = events._outbox._loop()
    assert child is not loop and alive(child)
    for each in (loop, child):
        each.call_soon_threadsafe(each.stop)
        deadline = time.monotonic() + 2
        while each.is_running() and time.monotonic() < deadline:
            time.sleep(0.01)
        each.close()
