"""The "database" transport's source: the hub reads new RealtimeEvent rows every
INBOX_REALTIME_POLL_SECONDS, one small indexed query per interval per process (never per socket).

Each read goes on from the last id read (a keyset: `id > last`, in id order, BATCH rows at a
time): a burst of any size is read whole and in order, a full batch followed at once by the next.

Ids alone would skip an event, though: on PostgreSQL a transaction that took a lower id can
commit after one that took a higher id. Such a row's `created` (the database's clock at its
insert) is within WINDOW of the newest event read, so each read also checks the window behind
the keyset: one aggregate (how many rows and the sum of their ids) compared with the ids the
hub has read there (a bounded set: the events of a few seconds). Only when they differ does it
read the window's ids and then the rows it missed.

Why not a keyset on (created, id): on SQLite `created` is text at millisecond precision while
Django sends a datetime as text with six digits, so `created = <a value read back>` is never
true and rows sharing a millisecond would be skipped; ids compare exactly everywhere.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from channels.db import database_sync_to_async
from django.db.models import Count, Max, Sum

from inbox.conf import inbox_setting

from .models import RealtimeEvent
from .outage import Outage

__all__ = ["DatabaseSource"]

logger = logging.getLogger(__name__)
WINDOW = timedelta(seconds=10)  # an event commits within this long after its row was written
BATCH = 500  # events per read; a full batch is followed at once by the next read
MAX_RETRY_SECONDS = 10  # the backoff after failed reads: the poll interval doubled, up to this
# One per process, not per source: a hub that stops and starts again during an outage logs it once.
outage = Outage(logger, "Reading real-time events from the database")


class DatabaseSource:
    def __init__(self, hub):
        self.hub = hub
        self.last_id = 0  # the keyset: the highest id read
        self.seen: dict[int, object] = {}  # id -> created, for the events read inside the window
        self.latest = None  # the newest `created` read: the window is the WINDOW before it
        self.behind = False  # the last read was a full batch: read again without waiting

    def start(self) -> None:
        """Begin at now: what happened before this hub started is the pages' hello's job."""
        found = RealtimeEvent.objects.aggregate(latest=Max("created"), last_id=Max("id"))
        self.latest, self.last_id = found["latest"], found["last_id"] or 0
        if self.latest is not None:
            rows = RealtimeEvent.objects.filter(created__gte=self.latest - WINDOW, id__lte=self.last_id)
            self.seen = dict(rows.values_list("id", "created"))

    def poll(self) -> list[dict]:
        """The events not read yet: those committed late behind the keyset, then the next batch
        after it in id order."""
        rows = self._missed() + self._next_batch()
        for pk, created, _ in rows:
            self.seen[pk] = created
            if self.latest is None or created > self.latest:
                self.latest = created
        if self.latest is not None:
            cutoff = self.latest - WINDOW
            self.seen = {pk: created for pk, created in self.seen.items() if created >= cutoff}
        return [payload for _, _, payload in rows]

    def _next_batch(self) -> list[tuple]:
        rows = list(
            RealtimeEvent.objects.filter(id__gt=self.last_id)
            .order_by("id")
            .values_list("id", "created", "payload")[:BATCH]
        )
        self.behind = len(rows) == BATCH
        if rows:
            self.last_id = rows[-1][0]
        return rows

    def _missed(self) -> list[tuple]:
        """Rows behind the keyset, inside the window, not read yet (committed after a higher id):
        one aggregate when there are none, which is nearly always."""
        if self.latest is None:
            return []
        window = RealtimeEvent.objects.filter(created__gte=self.latest - WINDOW, id__lte=self.last_id)
        found = window.aggregate(count=Count("id"), total=Sum("id"))
        if (found["count"], found["total"] or 0) == (len(self.seen), sum(self.seen)):
            return []
        # Differs: rows committed late, or a row at the window's edge that the database and
        # Python place on different sides of it (the same instant written at other precisions).
        missed = set(window.values_list("id", flat=True)) - self.seen.keys()
        if not missed:
            return []
        return list(
            RealtimeEvent.objects.filter(id__in=missed).order_by("id").values_list("id", "created", "payload")
        )

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
            # A full batch: more are waiting (a burst), read them now; else wait for new ones.
            await asyncio.sleep(0 if self.behind else interval)
