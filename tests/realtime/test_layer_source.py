"""The layer transport's source (source_layer.LayerSource) on its own, with a stand-in hub: its
liveness check (a ping through its own channel) must not mistake a hub busy with a burst of
events for a layer that stopped answering, and its reset after a failure must not touch what
other processes keep in the layer."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

from inbox.realtime import source_layer
from inbox.realtime.transport import GROUP

from .conftest import run

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class SlowHub:
    """A hub whose fan-out of each event takes a while (many sockets, a slow database)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.events: list[dict] = []
        self.down: list[BaseException] = []
        self.up = asyncio.Event()

    async def dispatch(self, events) -> None:
        for event in events:
            await asyncio.sleep(self.seconds)
            self.events.append(event)

    def source_down(self, error: BaseException) -> None:
        self.down.append(error)

    def source_up(self) -> None:
        self.up.set()


@pytest.fixture
def quick_heartbeat(settings, monkeypatch):
    settings.CHANNEL_LAYERS = IN_MEMORY
    monkeypatch.setattr(source_layer, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(source_layer, "TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(source_layer, "RETRY_SECONDS", 0.05)


def test_a_burst_slower_to_dispatch_than_the_heartbeat_is_not_an_outage(quick_heartbeat):
    hub = SlowHub(0.05)  # 30 events: 1.5 s of fan-out, fifteen heartbeats

    async def scenario():
        source = source_layer.LayerSource(hub)
        task = asyncio.create_task(source.run())
        try:
            await asyncio.wait_for(hub.up.wait(), 5)
            layer = get_channel_layer()
            for number in range(30):
                await layer.group_send(GROUP, {"type": "inbox.event", "event": {"number": number}})
            async with asyncio.timeout(10):
                while len(hub.events) < 30 and not hub.down:
                    await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    run(scenario)
    assert hub.down == []
    assert [event["number"] for event in hub.events] == list(range(30))


def test_a_failure_leaves_the_other_groups_of_a_shared_layer_alone(quick_heartbeat):
    """Not channels-redis's pub/sub layer (here the in-memory one, as channels-redis's core
    layer): its flush() would delete every process's groups and queued messages."""
    hub = SlowHub(0)

    async def scenario():
        layer = get_channel_layer()
        other = await layer.new_channel()  # another consumer of the same layer
        await layer.group_add("elsewhere", other)
        receive, failures = layer.receive, []

        async def failing_once(channel):
            if not failures:
                failures.append(channel)
                raise ConnectionError("the layer went away")
            return await receive(channel)

        layer.receive = failing_once
        source = source_layer.LayerSource(hub)
        task = asyncio.create_task(source.run())
        try:
            await asyncio.wait_for(hub.up.wait(), 5)  # failed once, then up again
            await layer.group_send("elsewhere", {"type": "still.here"})
            return await asyncio.wait_for(receive(other), 2)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert run(scenario) == {"type": "still.here"}
    assert [type(error) for error in hub.down] == [ConnectionError]
