"""The hub's and the catch-up's reads of notifications (synchronous: run through
database_sync_to_async), built from the core's querysets (Notification.objects ...visible(),
unread()). Each is bounded: a batch of users per query, never a query per user for a broadcast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import OuterRef

from inbox import fast_reads
from inbox.badge import badge_count_limit, count_unread, unread_count
from inbox.conf import inbox_setting
from inbox.models import Message, Notification
from inbox.web.rows import rows_query

__all__ = [
    "Row",
    "dropdown_items",
    "expired_rows",
    "newer",
    "notifications",
    "sent_rows",
    "unread_count_of",
    "unread_counts",
]

BATCH = 1000  # user ids per query (bound parameters are limited)


@dataclass(frozen=True, slots=True)
class Row:
    """A recipient's notification of one message, with their unread count."""

    id: int
    user_id: int
    created: datetime
    read: bool
    unread: int  # counted up to INBOX_BADGE_MAX + 1


def _batches(ids):
    ids = sorted(ids)
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def sent_rows(message_id: int, user_ids) -> tuple[Message | None, list[Row]]:
    """The message (None if gone or expired) and its notifications for the users in `user_ids`
    (the connected ones), each with the recipient's unread count: one query per BATCH users."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.is_expired():
        return None, []
    rows = []
    for batch in _batches(user_ids):
        if inbox_setting("FAST_READS"):  # a message to a few users comes often: compiling costs most
            found = fast_reads.message_rows(message_id, batch, badge_count_limit())
        else:
            found = (
                Notification.objects.filter(message_id=message_id, recipient_id__in=batch)
                .annotate(unread=unread_count(OuterRef("recipient_id")))
                .order_by()
                .values_list("pk", "recipient_id", "created", "read_at", "unread")
            )
        rows.extend(
            Row(pk, user, created, read_at is not None, unread)
            for pk, user, created, read_at, unread in found
        )
    return message, rows


def unread_count_of(user_id: int) -> int:
    """One user's badge count: the bell's own (inbox.badge.count_unread), one query."""
    return count_unread(get_user_model()(pk=user_id), badge_count_limit())


def unread_counts(user_ids) -> dict[int, int]:
    """{user id: unread count (bounded)} for `user_ids`: one query per BATCH users."""
    users = get_user_model()._default_manager
    counts = {}
    for batch in _batches(user_ids):
        found = users.filter(pk__in=batch).annotate(unread=unread_count(OuterRef("pk"))).order_by()
        counts.update(found.values_list("pk", "unread"))
    return counts


def notifications(user_id: int, ids) -> dict[int, Notification]:
    """The user's visible notifications among `ids`, with their messages (one query)."""
    if not ids:
        return {}
    rows = Notification.objects.for_user(user_id).visible().filter(pk__in=list(ids))
    return {n.pk: n for n in rows.select_related("message")}


def newer(
    user_id: int, show: str, cursor, limit: int, *, kind: str = "", level: str = ""
) -> list[Notification]:
    """The user's visible notifications newer than `cursor` = (created, id), newest first, in
    list `show` ("all" or "unread") filtered by `kind` and `level` ("" = any); the whole first
    page when `cursor` is None."""
    rows = rows_query(user_id, unread=show == "unread", kind=kind, level=level)
    if cursor is not None:
        rows = rows.after(cursor)
    return list(rows[:limit])


def dropdown_items(user_id: int) -> list[Notification]:
    """What the bell's dropdown lists (as inbox.web.views.dropdown_context)."""
    rows = Notification.objects.for_user(user_id).visible().unread().select_related("message")
    return list(rows.newest_first()[: inbox_setting("DROPDOWN_SIZE")])


def expired_rows(since: datetime, until: datetime, user_ids) -> list[tuple[int, int, bool]]:
    """(notification id, user id, was unread) of the connected users' notifications that expired
    in (since, until]: one indexed query for the messages that did, and more only when some did
    (the rows are then taken by their own copy of the expiry, as every list and count does)."""
    expired = list(
        Message.objects.filter(expires_at__gt=since, expires_at__lte=until).values_list("pk", flat=True)
    )
    if not expired:
        return []
    out = []
    for batch in _batches(user_ids):
        rows = Notification.objects.filter(
            message_id__in=expired, recipient_id__in=batch, expires_at__gt=since, expires_at__lte=until
        )
        out.extend(
            (pk, user, read_at is None)
            for pk, user, read_at in rows.values_list("pk", "recipient_id", "read_at")
        )
    return out
