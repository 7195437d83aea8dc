"""The unread badge: one bounded count query, shown as "3" or "99+"."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import IntegerField, Subquery

from . import fast_reads
from .conf import inbox_setting
from .models import Notification

__all__ = ["Badge", "BoundedCount", "badge_count_limit", "badge_for", "count_unread", "unread_count"]


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


def _unread_rows(user):
    """The rows a badge counts: the one definition of "visible" and "unread" (the QuerySet's),
    in no particular order, so the database may read them from whichever index suits."""
    return Notification.objects.for_user(user).visible().unread().order_by()


def count_unread(user, limit: int) -> int:
    """How many visible unread notifications `user` has, counting no further than `limit`.

    One query, a COUNT over a LIMITed subquery: the badge costs the same for 5 unread as for
    100,000, and the partial unread index holds all it reads (each row's copy of its message's
    expiry), so no message is read. INBOX_FAST_READS runs the same as SQL written out
    (inbox.fast_reads)."""
    if inbox_setting("FAST_READS"):
        return fast_reads.count_unread(getattr(user, "pk", user), limit)
    return _unread_rows(user)[:limit].count()


class BoundedCount(Subquery):
    """COUNT(*) over a sliced queryset, as a scalar subquery: its LIMIT stops the count."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) bounded)"
    output_field = IntegerField()


def unread_count(user, limit: int | None = None) -> Subquery:
    """The same bounded count as an expression, for a query that reads it along with other
    columns (a page's rows, a broadcast's recipients): `user` is a user or an id (a constant:
    the database computes the count once per statement) or an OuterRef to a column of the query
    it is used in (counted per row). `limit` defaults to badge_count_limit()."""
    limit = badge_count_limit() if limit is None else limit
    return BoundedCount(_unread_rows(user).values("pk")[:limit])
