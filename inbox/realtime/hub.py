"""The hub: one per web process. It knows the process's sockets by user and by session, takes
events from ONE source (source_db or source_layer, see transport.py) and fans each event out to
the connected recipients: one event, one database read and one render per process, whatever
the number of recipients. While no socket is open it does nothing at all (it stops after
INBOX_REALTIME_IDLE_SECONDS); it starts again with the next socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from channels.db import database_sync_to_async
from django.utils import timezone

from inbox.conf import inbox_setting
from inbox.models import Notification
from inbox.web.items import csrf_input, message_item

from . import frames, queries
from .outage import Outage
from .transport import transport

__all__ = ["Hub", "get_hub"]

logger = logging.getLogger(__name__)
PRUNE_SECONDS = 60  # how often the "database" transport's old events are deleted
LOGGED_OUT = 4401
# The source of events failed (Redis down): the page polls, and tries its socket again later.
REALTIME_DOWN = 4503


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
        self.tasks = [self.loop.create_task(self.source.run()), self.loop.create_task(self.watch_expiry())]

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
                    await self.sent(int(event["message"]))
                elif kind == "changed":
                    await self.changed(event)
                elif kind == "logout":
                    await self.logout(str(event["session"]))
                elif kind == "account":
                    await self.account(int(event["user"]))
                else:
                    logger.warning("Unknown real-time event: %r", event)
            except Exception:
                logger.exception("Could not fan out the real-time event %r", event)

    async def sent(self, message_id: int) -> None:
        if not self.users:
            return
        message, rows = await database_sync_to_async(queries.sent_rows)(message_id, list(self.users))
        if not rows:
            return
        open_dropdowns = [
            r.user_id for r in rows if any(c.state.dropdown for c in self.users.get(r.user_id, ()))
        ]
        dropdowns = await self._dropdowns(open_dropdowns)
        # Every shared piece is rendered and JSON-encoded once (frames.encoded); a socket's frame
        # is joined from them with its item's id and CSRF token.
        announce = frames.encoded(frames.announce(message))
        prepend_head, prepend_tail = frames.encoded_prepender()
        templates, badges = {}, {}

        def item(row, state) -> str:
            """One recipient's item, encoded: rendered once per (place, filters, read, created)
            for the whole broadcast, then only its id and CSRF token filled in."""
            key = (state.filter, state.kind, state.level, row.read, row.created)
            if key not in templates:
                template = message_item(
                    message,
                    state.filter,
                    created=row.created,
                    read=row.read,
                    kind=state.kind,
                    level=state.level,
                )
                templates[key] = None if template is None else frames.encoded_item(template)
            template = templates[key]
            if template is not None:
                return template.filled(str(row.id), frames.encoded(csrf_input(state.csrf or None)))
            # A message whose text holds a placeholder cannot be filled in: rendered as it is.
            notification = Notification(
                pk=row.id,
                recipient_id=row.user_id,
                message=message,
                created=row.created,
                read_at=row.created if row.read else None,  # read already, in the blink since
            )
            return frames.encoded(
                frames.item(
                    notification, state.filter, state.csrf, oob=False, kind=state.kind, level=state.level
                )
            )

        sending = Sending()
        for row in rows:
            if row.unread not in badges:  # the badge of a count is rendered once per broadcast
                badges[row.unread] = frames.encoded(frames.badge(row.unread))
            badge = badges[row.unread]
            for consumer in list(self.users.get(row.user_id, ())):
                if consumer.busy():
                    continue
                state, parts = consumer.state, [badge]
                if state.dashboard and state.top and state.lists(message, row.read):
                    parts += (prepend_head, item(row, state), prepend_tail)
                    state.shown.add(row.id)
                    if state.newest is None or (row.created, row.id) > state.newest:
                        state.newest = (row.created, row.id)
                if state.dropdown and row.user_id in dropdowns:
                    parts.append(frames.encoded(frames.dropdown(dropdowns[row.user_id], state.csrf)))
                parts.append(announce)
                sending.add(consumer, frames.encoded_frame("".join(parts), badge=row.unread))
        self.wait_for(sending)

    async def changed(self, event: dict) -> None:
        user_id = int(event["user"])
        consumers = list(self.users.get(user_id, ()))
        if not consumers:
            return
        read, unread, deleted = (set(map(int, event.get(key, ()))) for key in ("read", "unread", "deleted"))
        all_read, tab = bool(event.get("all_read")), str(event.get("tab", ""))
        others = [c for c in consumers if not tab or c.state.tab != tab]
        shown = set().union(*(c.state.shown for c in others if c.state.dashboard))
        affected = (shown if all_read else (read | unread) & shown) - deleted
        need_dropdown = any(c.state.dropdown for c in others)

        def load():
            count = queries.unread_counts([user_id]).get(user_id, 0)
            items = queries.dropdown_items(user_id) if need_dropdown else None
            return count, queries.notifications(user_id, affected), items

        count, current, dropdown = await database_sync_to_async(load)()
        badge, read_tags = frames.badge(count), sorted(read | deleted)
        sending = Sending()
        for consumer in consumers:
            if consumer.busy():
                continue
            state, parts = consumer.state, [badge]
            if consumer in others:
                if state.dashboard:
                    parts += self._item_updates(state, deleted, affected, current)
                if state.dropdown:
                    parts.append(frames.dropdown(dropdown, state.csrf))
            sending.add(
                consumer, frames.frame("".join(parts), badge=count, read=read_tags, all_read=all_read)
            )
        self.wait_for(sending)

    @staticmethod
    def _item_updates(state, gone_ids, changed_ids, current) -> list[str]:
        parts = []
        for pk in sorted(gone_ids & state.shown):
            parts.append(frames.gone(pk))
            state.shown.discard(pk)
        parts += frames.shown_updates(state, changed_ids & state.shown, current)
        return parts

    async def logout(self, session: str) -> None:
        for consumer in list(self.sessions.get(session, ())):
            self.close_later(consumer, LOGGED_OUT)

    async def account(self, user_id: int) -> None:
        """The user's account changed: each of their sockets checks its session (a password
        changed elsewhere logs the other sessions out), concurrently; a failure is dispatch()'s to log."""
        await asyncio.gather(*(consumer.check_session() for consumer in list(self.users.get(user_id, ()))))

    async def _dropdowns(self, user_ids) -> dict:
        if not user_ids:
            return {}
        return await database_sync_to_async(lambda: {u: queries.dropdown_items(u) for u in user_ids})()

    # --- expiry -------------------------------------------------------------------------

    async def watch_expiry(self) -> None:
        """Every INBOX_REALTIME_EXPIRY_SECONDS: items whose message expired since the last look
        leave the pages (one indexed query when nothing expired). Also prunes old events."""
        since = timezone.now()
        pruned = since
        while True:
            await asyncio.sleep(inbox_setting("REALTIME_EXPIRY_SECONDS"))
            now = timezone.now()
            try:
                if self.users:
                    await self.expired(since, now)
                if transport() == "database" and (now - pruned).total_seconds() >= PRUNE_SECONDS:
                    from .events import prune

                    await database_sync_to_async(prune)()
                    pruned = now
            except Exception:
                logger.exception("Real-time expiry check failed")
            since = now

    async def expired(self, since, until) -> None:
        rows = await database_sync_to_async(queries.expired_rows)(since, until, list(self.users))
        if not rows:
            return
        by_user = defaultdict(set)
        for pk, user_id, _ in rows:
            by_user[user_id].add(pk)
        need_dropdown = [u for u in by_user if any(c.state.dropdown for c in self.users.get(u, ()))]

        def load():
            return queries.unread_counts(list(by_user)), {u: queries.dropdown_items(u) for u in need_dropdown}

        counts, dropdowns = await database_sync_to_async(load)()
        sending = Sending()
        for user_id, ids in by_user.items():
            count = counts.get(user_id, 0)
            badge, read_tags = frames.badge(count), sorted(ids)
            for consumer in list(self.users.get(user_id, ())):
                if consumer.busy():
                    continue
                state, parts = consumer.state, [badge]
                if state.dashboard:
                    parts += self._item_updates(state, ids, set(), {})
                if state.dropdown and user_id in dropdowns:
                    parts.append(frames.dropdown(dropdowns[user_id], state.csrf))
                sending.add(consumer, frames.frame("".join(parts), badge=count, read=read_tags))
        self.wait_for(sending)


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
