"""The "layer" transport's source: the hub's one channel in the channel-layer group that every
publisher sends to (channels-redis pub/sub: one message reaches every web process at once)."""

from __future__ import annotations

import asyncio
import logging

from channels.layers import get_channel_layer

from .transport import GROUP

__all__ = ["LayerSource"]

logger = logging.getLogger(__name__)
RETRY_SECONDS = 1


class LayerSource:
    def __init__(self, hub):
        self.hub = hub
        self.channel = None

    async def run(self) -> None:
        layer = get_channel_layer()
        while True:
            try:
                self.channel = await layer.new_channel()
                await layer.group_add(GROUP, self.channel)
                while True:
                    message = await layer.receive(self.channel)
                    event = message.get("event") if isinstance(message, dict) else None
                    if isinstance(event, dict):
                        await self.hub.dispatch([event])
            except asyncio.CancelledError:
                await self._leave(layer)
                raise
            except Exception:
                logger.exception("The channel layer failed; listening again in %s s", RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)

    async def _leave(self, layer) -> None:
        if self.channel is not None:
            try:
                await layer.group_discard(GROUP, self.channel)
            except Exception:
                logger.debug("Could not leave the real-time group", exc_info=True)
