"""The dashboard's and the dropdown's rows: one query, from NotificationQuerySet's own rules
(``for_user``, ``visible``, ``unread``, ``before``, ``newest_first``), so "visible", "unread" and
keyset paging are defined once, in inbox/models.py.

With INBOX_FAST_READS (the default) the same query runs as SQL written out in inbox.fast_reads
and its rows are named tuples with the attribute names an item reads (Row, MessageRow); without
it, the QuerySet runs and the rows are Notifications with their messages, loaded with only the
columns an item shows. Either way an item's HTML comes from inbox.web.items.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from inbox import fast_reads
from inbox.badge import unread_count
from inbox.conf import inbox_setting
from inbox.models import Message, Notification

__all__ = ["MessageRow", "Row", "newest_rows", "newest_rows_and_unread", "rows_query"]


class MessageRow(NamedTuple):
    """The message of a row: what an item shows of it."""

    pk: int
    text: str
    url: str
    level: str
    kind: str

    kind_label = Message.kind_label


class Row(NamedTuple):
    """A notification as a list shows it; the attributes an item reads have the model's names."""

    pk: int
    created: datetime
    read_at: datetime | None
    message: MessageRow

    is_read = Notification.is_read
    cursor = Notification.cursor


# The columns an item shows: the row's, then its message's (the message's id comes with the join).
FIELDS = ("created", "read_at", "message__text", "message__url", "message__level", "message__kind")


def rows_query(user, *, unread: bool = False, cursor: tuple | None = None, kind: str = "", level: str = ""):
    """`user`'s visible notifications with their messages, newest first, optionally only the
    unread ones, only those of message kind `kind` and level `level` (if not ""), and only those
    after `cursor` = (created, id) in that order (keyset paging)."""
    rows = Notification.objects.for_user(user).visible()
    if unread:
        rows = rows.unread()
    if kind:
        rows = rows.filter(message__kind=kind)
    if level:
        rows = rows.filter(message__level=level)
    if cursor:
        rows = rows.before(cursor)
    return rows.select_related("message").only(*FIELDS).newest_first()


def newest_rows(user, limit: int, **filters) -> list:
    """rows_query(user, **filters), at most `limit` of them."""
    if inbox_setting("FAST_READS"):
        return _rows(fast_reads.newest_rows(user.pk, limit, **filters)[0])
    return list(rows_query(user, **filters)[:limit])


def newest_rows_and_unread(user, limit: int, *, count_to: int, **filters) -> tuple[list, int | None]:
    """newest_rows(), and from the same statement how many visible unread notifications `user`
    has, counted no further than `count_to` (as inbox.badge.count_unread): a page and its bell's
    badge in one query. The count comes with the rows, so it is None when there are none."""
    if inbox_setting("FAST_READS"):
        rows, count = fast_reads.newest_rows(user.pk, limit, count_to=count_to, **filters)
        return _rows(rows), count
    rows = list(rows_query(user, **filters).annotate(inbox_unread=unread_count(user, count_to))[:limit])
    return rows, (rows[0].inbox_unread if rows else None)


def _rows(fetched) -> list[Row]:
    return [Row(pk, created, read_at, MessageRow(*message)) for pk, created, read_at, *message in fetched]
