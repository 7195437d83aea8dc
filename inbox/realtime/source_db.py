"""The "database" transport's source: the hub reads new RealtimeEvent rows every
INBOX_REALTIME_POLL_SECONDS, one small indexed query per interval per process (never per socket).

Ids are not a safe cursor: on PostgreSQL a transaction that took a lower id can commit after one
that took a higher id, so "id > last seen" would skip it. The hub reads instead every event
created in the last WINDOW (on the database's clock) that it has not seen yet, and remembers the
ids it saw in that window (a bounded set: the events of a few seconds).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from channels.db import database_sync_to_async
from django.db.models import Max

from inbox.conf import inbox_setting

from .models import RealtimeEvent
from .outage import Outage

__all__ = ["DatabaseSource"]

logger = logging.getLogger(__name__)
WINDOW = timedelta(seconds=10)  # an event commits within this long after its row was written
BATCH = 500  # events per read
EXCLUDE_MAX = 1000  # seen ids excluded in SQL up to this many, beyond that in Python
MAX_RETRY_SECONDS = 10  # the backoff after failed reads: the poll interval doubled, up to this
# One per process, not per source: a hub that stops and starts again during an outage logs it once.
outage = Outage(logger, "Reading real-time events from the database")


class DatabaseSource:
    def __init__(self, hub):
        self.hub = hub
        self.seen: dict[int, object] = {}  # id -> created, for the events inside the window
        self.latest = None  # the newest `created` seen

    def start(self) -> None:
        """Begin at now: what happened before this hub started is the pages' hello's job."""
        self.latest = RealtimeEvent.objects.aggregate(latest=Max("created"))["latest"]
        if self.latest is not None:
            rows = RealtimeEvent.objects.filter(created__gte=self.latest - WINDOW)
            self.seen = dict(rows.values_list("id", "created"))

    def poll(self) -> list[dict]:
        """The events not seen yet, oldest first."""
        rows = RealtimeEvent.objects.order_by("id")
        if self.latest is not None:
            rows = rows.filter(created__gte=self.latest - WINDOW)
        if 0 < len(self.seen) <= EXCLUDE_MAX:
            rows = rows.exclude(id__in=list(self.seen))
        events = []
        for pk, created, payload in rows.values_list("id", "created", "payload")[:BATCH]:
            if pk in self.seen:
                continue
            self.seen[pk] = created
            if self.latest is None or created > self.latest:
                self.latest = created
            events.append(payload)
        if self.latest is not None:
            cutoff = self.latest - WINDOW
            self.seen = {pk: created for pk, created in self.seen.items() if created >= cutoff}
        return events

    async def run(self) -> None:
        """Start, then poll; a failure of either (the database unreachable, at the first connect
        too) is retried with backoff, and logged once per outage and once when it ends."""
        interval = inbox_setting("REALTIME_POLL_SECONDS")
        started, failures = False, 0
        while True:
            try:
                if not started:
                    await database_sync_to_async(self.start)()
                    started = True
                events = await database_sync_to_async(self.poll)()
            except Exception as error:
                failures += 1
                outage.failed(error, "; trying again")
                await asyncio.sleep(min(interval * 2**failures, MAX_RETRY_SECONDS))
                continue
            failures = 0
            outage.recovered()
            if events:
                await self.hub.dispatch(events)
            await asyncio.sleep(interval)
