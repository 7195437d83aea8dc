"""What the real-time package stores: the events of the "database" transport."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models.functions import Now

from inbox.conf import inbox_setting


class RealtimeEvent(models.Model):
    """One real-time event (a message sent, notifications read, a logout), written by whichever
    process made the change and read by every web process's hub (inbox.realtime.source_db).
    Rows live a few minutes (INBOX_REALTIME_EVENT_MINUTES)."""

    # The database's clock, not the writer's: every process compares against the same clock.
    created = models.DateTimeField(db_default=Now(), db_index=True)
    payload = models.JSONField()

    class Meta:
        db_table = "inbox_realtimeevent"  # its name from when it was the core app's
        ordering = ["id"]

    def __str__(self) -> str:
        return f"event {self.pk}: {self.payload.get('type', '?')}"


def old_events(now: datetime) -> models.QuerySet:
    """Events every web process has long read (the hubs also prune as they go)."""
    return RealtimeEvent.objects.filter(
        created__lt=now - timedelta(minutes=inbox_setting("REALTIME_EVENT_MINUTES"))
    )
