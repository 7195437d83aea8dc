"""The dashboard's and the dropdown's rows: one query, built from NotificationQuerySet's own
rules (``for_user``, ``visible``, ``unread``, ``before``, ``newest_first``), so "visible",
"unread" and keyset paging are defined once, in inbox/models.py.

The rows are Notifications with their messages, loaded with only the columns an item shows
(an item's HTML comes from inbox.web.items, which reads nothing else).
"""

from __future__ import annotations

from inbox.badge import unread_count
from inbox.models import Notification

__all__ = ["Row", "newest_rows", "newest_rows_and_unread", "rows_query"]

Row = Notification  # what a row is (inbox.realtime.catchup names it)

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


def newest_rows(user, limit: int, **filters) -> list[Notification]:
    """rows_query(user, **filters), at most `limit` of them."""
    return list(rows_query(user, **filters)[:limit])


def newest_rows_and_unread(
    user, limit: int, *, count_to: int, **filters
) -> tuple[list[Notification], int | None]:
    """newest_rows(), and from the same statement how many visible unread notifications `user`
    has, counted no further than `count_to` (as inbox.badge.count_unread): a page and its bell's
    badge in one query. The count comes with the rows, so it is None when there are none."""
    rows = list(rows_query(user, **filters).annotate(inbox_unread=unread_count(user, count_to))[:limit])
    return rows, (rows[0].inbox_unread if rows else None)
