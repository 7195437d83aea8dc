"""The unread badge: one bounded count query, shown as "3" or "99+"."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connections, router
from django.utils import timezone

from .conf import inbox_setting
from .models import Notification

__all__ = ["Badge", "badge_for", "count_unread", "unread_count_sql"]


@dataclass(frozen=True)
class Badge:
    count: int  # exact up to `limit`, where it stops counting
    limit: int

    @property
    def label(self) -> str:
        return f"{self.limit}+" if self.count > self.limit else str(self.count)


def badge_for(user) -> Badge:
    limit = inbox_setting("BADGE_MAX")
    return Badge(count=count_unread(user, badge_count_limit()), limit=limit)


def badge_count_limit() -> int:
    """How far a badge counts: one past INBOX_BADGE_MAX, so "99" and "99+" can be told apart."""
    return inbox_setting("BADGE_MAX") + 1


def count_unread(user, limit: int) -> int:
    """How many visible unread notifications `user` has, counting no further than `limit`.

    One query (COUNT over a LIMITed subquery), so the badge costs the same for 5 unread as for
    100,000: it reads the user's unread rows from the partial unread index alone, which holds each
    row's copy of its message's expiry (no message is read). It is written out because it runs on
    every badge poll, where compiling the equivalent ORM query cost ten times running it.
    """
    alias = router.db_for_read(Notification)
    connection = connections[alias]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # Named parameters: Django's SQLite cursor turns "%s" into "?" with a regular expression
        # over the whole statement (about 5 us here); names take one "%" formatting instead.
        cursor.execute(_count_sql(connection.vendor, alias), {"user": user.pk, "now": now, "limit": limit})
        return cursor.fetchone()[0]


@cache
def _count_sql(vendor: str, alias: str) -> str:
    rows = _unread_rows_sql(connections[alias], "%(user)s", "%(now)s", "%(limit)s")
    return f"SELECT COUNT(*) FROM ({rows}) unread"


def unread_count_sql(connection, user: str, now: str = "%s", limit: str = "%s") -> str:
    """The bounded count as a scalar subquery, for a statement that reads it along with other
    columns (the dashboard's rows, a broadcast's recipients): `user` is the SQL of the user's id
    (a placeholder, or a column of the outer query), `now` and `limit` the placeholders of the
    current time and the limit. The database computes it once when `user` is a placeholder."""
    return f"(SELECT COUNT(*) FROM ({_unread_rows_sql(connection, user, now, limit)}) c)"


def _unread_rows_sql(connection, user: str, now: str, limit: str) -> str:
    notification = connection.ops.quote_name(Notification._meta.db_table)
    return (
        f"SELECT 1 FROM {notification} u WHERE u.recipient_id = {user} AND u.read_at IS NULL "
        f"AND (u.expires_at IS NULL OR u.expires_at > {now}) LIMIT {limit}"
    )
