"""Getting frames to clients that may stop reading. A socket's send starts at once; while the
client has not taken it, the socket's next frames queue behind it (FrameSender, part of the
consumer). A broadcast keeps the sends still under way (Sending) for the hub to wait on together
(hub.Hub.wait_for): a client that stopped reading delays no other."""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from inbox.conf import inbox_setting

from .close_codes import TRY_AGAIN_LATER

__all__ = ["MAX_QUEUED", "FrameSender", "Sending"]

logger = logging.getLogger(__name__)
MAX_QUEUED = 64  # frames waiting behind one the client has not taken yet


class FrameSender:
    """The sending half of a consumer (RealtimeConsumer mixes it in): it uses the consumer's
    send(), close(), registered, user_id and _forget()."""

    writer: asyncio.Task | None = None  # a send the client has not taken yet, and the frames after it
    closing: asyncio.Task | None = None  # a close under way in the background (kept referenced)

    def start_sending(self) -> None:
        self.queued: deque[str] = deque()

    def send_frame(self, frame: str) -> asyncio.Task | None:
        """Start sending one of the hub's frames, and return at once: None when it is out
        already, else the send under way, for the hub to wait on with the rest of its broadcast
        (Hub.wait_for). The send starts as an eager task, so one the socket takes without
        waiting, nearly every one, needs no task or timer at all. While a send waits (the
        client's buffer is full) the socket's next frames queue behind it, in order; beyond
        MAX_QUEUED the client is too far behind and is closed: its page reconnects and catches up."""
        if not self.registered:
            return None  # closing: no more frames
        if self.writer is not None and not self.writer.done():
            if len(self.queued) >= MAX_QUEUED:
                self.stalled("it is too far behind")
                return None
            self.queued.append(frame)
            return self.writer
        writer = asyncio.eager_task_factory(asyncio.get_running_loop(), self._write(frame))
        if writer.done():
            self._written(writer)
            return None
        self.writer = writer
        writer.add_done_callback(self._written)
        return writer

    async def _write(self, frame: str) -> None:
        await self.send(text_data=frame)
        while self.queued:
            await self.send(text_data=self.queued.popleft())

    def _written(self, writer: asyncio.Task) -> None:
        if writer is self.writer:
            self.writer = None
        if writer.cancelled():
            return
        if writer.exception() is not None:  # closed under our feet: its disconnect() unregisters it
            self.queued.clear()
            logger.debug("Could not send to a closing socket", exc_info=writer.exception())

    async def send_frame_now(self, frame: str) -> None:
        """send_frame(), then wait for it (at most INBOX_REALTIME_SEND_SECONDS): a catch-up."""
        writer = self.send_frame(frame)
        if writer is not None:
            done, _ = await asyncio.wait([writer], timeout=inbox_setting("REALTIME_SEND_SECONDS"))
            if not done:
                self.stalled()

    def stalled(self, why: str = "it takes no frames") -> None:
        """The client takes no frames (it stopped reading; its buffer is full): forget it now and
        close it in the background. The server's close writes a close frame to the same full
        buffer and waits for it (its close timeout): awaited here it would hold up the others."""
        if not self.registered:
            return
        logger.info("Closing user %s's socket: %s", self.user_id, why)
        self._forget()
        self.queued.clear()
        if self.writer is not None:
            self.writer.cancel()
        self.closing = asyncio.get_running_loop().create_task(self._close_quietly(TRY_AGAIN_LATER))

    async def _close_quietly(self, code: int) -> None:
        try:
            await self.close(code=code)
        except Exception:  # the client went away meanwhile: nothing left to close
            logger.debug("Could not close a socket that takes no frames", exc_info=True)


class Sending:
    """One broadcast's sends: each starts at once (consumer.send_frame), those under way are
    kept for the hub's one wait."""

    __slots__ = ("pending",)

    def __init__(self):
        self.pending: dict = {}

    def add(self, consumer, frame: str) -> None:
        writer = consumer.send_frame(frame)
        if writer is not None:
            self.pending[consumer] = writer
