"""The hub: one per web process. It knows the process's sockets by user and by session, takes
events from ONE source (source_db or source_layer, see transport.py) and fans each event out to
the connected recipients: one event, one database read and one render per process, whatever
the number of recipients (broadcast.py for a new message, updates.py for changes and expiry,
logouts and account changes here). While no socket is open it does nothing at all (it stops after
INBOX_REALTIME_IDLE_SECONDS); it starts again with the next socket.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async

from inbox.conf import inbox_setting

from . import broadcast, queries, updates
from .close_codes import LOGGED_OUT, REALTIME_DOWN
from .outage import Outage
from .sending import Sending
from .transport import transport

__all__ = ["Hub", "get_hub"]

logger = logging.getLogger(__name__)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.users: dict[int, set] = {}  # user id -> the consumers of that user on this process
        self.sessions: dict[str, set] = {}  # session hash -> consumers
        self.tasks: list[asyncio.Task] = []
        self.stop_timer: asyncio.TimerHandle | None = None
        self.events = 0  # events handled (tests, benchmarks)
        self.closing: set[asyncio.Task] = set()  # closes and send deadlines under way
        self.waited: set[asyncio.Task] = set()  # sends under way that a deadline watches
        self.outage = Outage(logger, "Real time (its source of events)")  # logged once across restarts
        self.failing = False  # the running source's last word: it failed (not answered since)

    # --- sockets ------------------------------------------------------------------------

    def register(self, consumer) -> None:
        self.users.setdefault(consumer.user_id, set()).add(consumer)
        self.sessions.setdefault(consumer.session, set()).add(consumer)
        if self.stop_timer is not None:
            self.stop_timer.cancel()
            self.stop_timer = None
        if not self.tasks:
            self.start()
        if self.failing:  # a socket would stay silent: the page polls (the source keeps trying)
            self.close_later(consumer, REALTIME_DOWN)

    def unregister(self, consumer) -> None:
        for index, key in ((self.users, consumer.user_id), (self.sessions, consumer.session)):
            consumers = index.get(key)
            if consumers is not None:
                consumers.discard(consumer)
                if not consumers:
                    del index[key]
        if not self.users and self.tasks and self.stop_timer is None:
            idle = inbox_setting("REALTIME_IDLE_SECONDS")
            if idle > 0:
                self.stop_timer = self.loop.call_later(idle, self.stop)
            else:
                self.stop()

    @property
    def sockets(self) -> int:
        return sum(len(consumers) for consumers in self.users.values())

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if transport() == "layer":
            from .source_layer import LayerSource as Source
        else:
            from .source_db import DatabaseSource as Source
        self.source = Source(self)
        # A new source has said nothing yet: an outage seen by the one stopped earlier (the log's
        # "is down", kept for its "is back") does not refuse the sockets that start it again.
        self.failing = False
        self.tasks = [
            self.loop.create_task(self.source.run()),
            self.loop.create_task(updates.watch_expiry(self)),
        ]

    def stop(self) -> None:
        self.stop_timer = None
        for task in self.tasks:
            task.cancel()
        self.tasks = []

    # --- the source's health ------------------------------------------------------------

    def source_down(self, error: BaseException) -> None:
        """The source failed (it tries again by itself): every socket closes with REALTIME_DOWN,
        so that its page polls instead of waiting for frames that cannot come, and tries again
        later. Logged once per outage."""
        self.failing = True
        self.outage.failed(error, "; its sockets are closed and the pages poll until it is back")
        for consumers in list(self.users.values()):
            for consumer in list(consumers):
                self.close_later(consumer, REALTIME_DOWN)

    def source_up(self) -> None:
        self.failing = False
        self.outage.recovered()

    def close_later(self, consumer, code: int) -> None:
        """Close in the background (kept referenced): a close can wait on a slow client. Started
        eagerly: the socket is forgotten at once, so no later frame reaches it."""
        task = asyncio.eager_task_factory(self.loop, consumer.close(code=code))
        if task.done():
            self._closed(task)
            return
        self.closing.add(task)
        task.add_done_callback(self._closed)

    def _closed(self, task: asyncio.Task) -> None:
        self.closing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.debug("Could not close a socket", exc_info=task.exception())

    # --- sends --------------------------------------------------------------------------

    def wait_for(self, sending: Sending) -> None:
        """A broadcast's sends that the clients did not take at once (their buffers full) get
        one timeout together, INBOX_REALTIME_SEND_SECONDS, waited in the background: the hub goes on with the
        next event meanwhile, and a socket that still has not taken its frame then is closed.
        A socket already waited on (its earlier frame not taken yet) is not waited on twice."""
        fresh = {c: w for c, w in sending.pending.items() if w not in self.waited}
        if not fresh:
            return
        self.waited.update(fresh.values())
        task = self.loop.create_task(self._deadline(fresh))
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def _deadline(self, pending: dict) -> None:
        try:
            await asyncio.wait(pending.values(), timeout=inbox_setting("REALTIME_SEND_SECONDS"))
        finally:
            self.waited.difference_update(pending.values())
        for consumer, writer in pending.items():
            if not writer.done():
                consumer.stalled()

    # --- events -------------------------------------------------------------------------

    async def dispatch(self, events) -> None:
        """Hand each event to its handler; a bad event is logged, never stops the others."""
        for event in events:
            self.events += 1
            try:
                kind = event.get("type") if isinstance(event, dict) else None
                if kind == "sent":
                    await broadcast.sent(self, int(event["message"]))
                elif kind == "changed":
                    await updates.changed(self, event)
                elif kind == "logout":
                    await self.logout(str(event["session"]))
                elif kind == "account":
                    await self.account(int(event["user"]))
                else:
                    logger.warning("Unknown real-time event: %r", event)
            except Exception:
                logger.exception("Could not fan out the real-time event %r", event)

    async def logout(self, session: str) -> None:
        for consumer in list(self.sessions.get(session, ())):
            self.close_later(consumer, LOGGED_OUT)

    async def account(self, user_id: int) -> None:
        """The user's account changed: each of their sockets checks its session (a password
        changed elsewhere logs the other sessions out), concurrently; a failure is dispatch()'s to log."""
        await asyncio.gather(*(consumer.check_session() for consumer in list(self.users.get(user_id, ()))))

    async def dropdowns(self, user_ids) -> dict:
        """{user id: the dropdown's items} for `user_ids`, read in one trip to a worker thread."""
        if not user_ids:
            return {}
        return await database_sync_to_async(lambda: {u: queries.dropdown_items(u) for u in user_ids})()


_hub: Hub | None = None


def get_hub() -> Hub:
    """The process's hub (made on the first socket; one per event loop, so a test's new loop
    gets a new one)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        if _hub is not None and not _hub.loop.is_closed():
            _hub.stop()
        _hub = Hub(loop)
    return _hub
