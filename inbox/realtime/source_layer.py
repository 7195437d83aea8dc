"""The "layer" transport's source: the hub's one channel in the channel-layer group that every
publisher sends to (channels-redis pub/sub: one message reaches every web process at once).

channels-redis never tells its listener that Redis went away (its receive waits for ever while
its own task retries, logging each second), so the source checks the path itself: it pings its
own channel through the layer every HEARTBEAT_SECONDS, and a ping not back by the next one, or a
layer that does not answer within TIMEOUT_SECONDS, is a failure. The hub then tells its sockets
(they close and the pages poll); the source drops the connection and tries again with backoff."""

from __future__ import annotations

import asyncio
import logging

from channels.layers import get_channel_layer

from .transport import GROUP

__all__ = ["LayerSource"]

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5  # subscribing, or sending a ping, takes at most this long
HEARTBEAT_SECONDS = 5
RETRY_SECONDS, MAX_RETRY_SECONDS = 1, 30  # the backoff between tries: 1, 2, 4 ... 30 s
PING = "inbox.ping"


class LayerSource:
    def __init__(self, hub):
        self.hub = hub
        self.channel = None
        self.pinged = self.answered = 0  # the pings sent, the last one back

    async def run(self) -> None:
        failures = 0
        while True:
            layer = get_channel_layer()
            try:
                await self.listen(layer)
            except asyncio.CancelledError:
                await self._leave(layer)
                raise
            except Exception as error:
                if isinstance(error, ExceptionGroup):
                    error = error.exceptions[0]
                failures = 1 if self.answered else failures + 1  # it was up: the backoff starts again
                self.hub.source_down(error)
                await self._reset(layer)
                await asyncio.sleep(min(RETRY_SECONDS * 2 ** (failures - 1), MAX_RETRY_SECONDS))

    async def listen(self, layer) -> None:
        """Subscribe, then hand each event to the hub until the layer fails (raises)."""
        self.pinged = self.answered = 0
        async with asyncio.timeout(TIMEOUT_SECONDS):
            self.channel = await layer.new_channel()
            await layer.group_add(GROUP, self.channel)
        queue: asyncio.Queue = asyncio.Queue()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._receive(layer, queue))
            tasks.create_task(self._dispatch(queue))
            tasks.create_task(self._heartbeat(layer))

    async def _receive(self, layer, queue: asyncio.Queue) -> None:
        """Read the channel without ever waiting on the hub: a ping is recorded as soon as it
        arrives, events are queued for _dispatch. A burst of events that takes the hub longer
        than HEARTBEAT_SECONDS to fan out is not a layer that stopped answering."""
        while True:
            message = await layer.receive(self.channel)
            if not isinstance(message, dict):
                continue
            if message.get("type") == PING:
                if not self.answered:
                    self.hub.source_up()
                self.answered = message.get("ping", 0)
                continue
            event = message.get("event")
            if isinstance(event, dict):
                queue.put_nowait(event)

    async def _dispatch(self, queue: asyncio.Queue) -> None:
        """Hand the events to the hub one after another, in the order they came."""
        while True:
            event = await queue.get()
            events = [event]
            while not queue.empty():  # what came meanwhile, still in order
                events.append(queue.get_nowait())
            await self.hub.dispatch(events)

    async def _heartbeat(self, layer) -> None:
        while True:
            self.pinged += 1
            async with asyncio.timeout(TIMEOUT_SECONDS):
                await layer.send(self.channel, {"type": PING, "ping": self.pinged})
            await asyncio.sleep(HEARTBEAT_SECONDS)
            if self.answered < self.pinged:
                raise ConnectionError(f"a ping did not come back within {HEARTBEAT_SECONDS} s")

    async def _reset(self, layer) -> None:
        """Drop the failed connection: channels-redis's pub/sub layer would keep retrying it on
        its own, logging a traceback each second; it opens a new one on the next try. Only that
        layer: its flush() closes this process's connections, whereas the flush() of any other
        layer (channels-redis's core one: KEYS + DEL on the whole prefix; the in-memory one)
        wipes the groups and messages of every process."""
        self.channel = None
        if not _is_pubsub(layer):
            return
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                await layer.flush()
        except Exception:
            logger.debug("Could not reset the channel layer", exc_info=True)

    async def _leave(self, layer) -> None:
        if self.channel is not None:
            try:
                await layer.group_discard(GROUP, self.channel)
            except Exception:
                logger.debug("Could not leave the real-time group", exc_info=True)


def _is_pubsub(layer) -> bool:
    try:
        from channels_redis.pubsub import RedisPubSubChannelLayer
    except ImportError:
        return False
    return isinstance(layer, RedisPubSubChannelLayer)
