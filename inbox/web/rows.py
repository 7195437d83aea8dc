"""The dashboard's and the dropdown's rows: one query, written out.

Building and compiling the ORM query for a page cost about a millisecond, several times running
it (the same finding as the badge's count in inbox/badge.py). This module runs the same query
as ``Notification.objects.for_user(user).visible().select_related("message")
.newest_first()`` (with ``.unread()``, ``.filter(message__kind=kind)``,
``.filter(message__level=level)`` and ``.before(cursor)`` when asked) as SQL, applies the
database backend's converters (as the ORM does), and returns the columns a list shows as named
tuples, as ``values_list(named=True)`` would: a notification and its message as model instances
cost twice the query's time, for items whose HTML comes from a cache anyway (inbox.web.items
makes the instances for an item it renders afresh). tests/web/test_rows.py checks the rows
against the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import NamedTuple

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connections, router
from django.utils import timezone

from inbox.badge import unread_count_sql
from inbox.models import Message, Notification

__all__ = ["MessageRow", "Row", "newest_rows", "newest_rows_and_unread"]


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


# The columns read, by field name: the row's, then its message's.
ROW_FIELDS = ("id", "created", "read_at")
MESSAGE_FIELDS = ("id", "text", "url", "level", "kind")


def newest_rows(
    user,
    limit: int,
    *,
    unread: bool = False,
    cursor: tuple | None = None,
    kind: str = "",
    level: str = "",
) -> list[Row]:
    """`user`'s visible notifications, newest first, at most `limit`, optionally only the unread
    ones, only those of message kind `kind` and level `level` (if not ""), and only those after
    `cursor` = (created, id) in that order (keyset paging). Values are always bound parameters."""
    return _newest(user, limit, None, unread, cursor, kind, level)[0]


def newest_rows_and_unread(
    user,
    limit: int,
    *,
    count_to: int,
    unread: bool = False,
    cursor: tuple | None = None,
    kind: str = "",
    level: str = "",
) -> tuple[list[Row], int | None]:
    """newest_rows(), and from the same statement how many visible unread notifications `user`
    has, counted no further than `count_to` (as inbox.badge.count_unread): a page and its bell's
    badge in one query. The count comes with the rows, so it is None when there are none."""
    return _newest(user, limit, count_to, unread, cursor, kind, level)


def _newest(user, limit, count_to, unread, cursor, kind, level) -> tuple[list[Row], int | None]:
    alias = router.db_for_read(Notification)
    connection = connections[alias]
    query = _query(connection.vendor, alias)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    if count_to is None:
        sql, params = query.select, [user.pk, now]
    else:
        sql, params = query.select_counting, [user.pk, now, count_to, user.pk, now]
    if unread:
        sql += query.unread
    if kind:
        sql += query.kind
        params.append(kind)
    if level:
        sql += query.level
        params.append(level)
    if cursor:
        created, pk = cursor
        created = connection.ops.adapt_datetimefield_value(created)
        sql += query.before
        params += [created, created, pk]
    sql += query.order
    params.append(limit)
    with connection.cursor() as db_cursor:
        db_cursor.execute(sql, params)
        fetched = db_cursor.fetchall()

    converters = query.converters(connection)
    split, end = len(ROW_FIELDS), len(ROW_FIELDS) + len(MESSAGE_FIELDS)
    # _make builds a named tuple from an iterable in C; calling the class goes through Python.
    make_row, make_message = Row._make, MessageRow._make
    out = []
    for row in fetched:
        if converters:
            row = list(row)
            for position, convert in converters:
                row[position] = convert(row[position])
        out.append(make_row((*row[:split], make_message(row[split:end]))))
    unread_count = fetched[0][end] if fetched and count_to is not None else None
    return out, unread_count


class _Query:
    """The SQL pieces and the columns' converters for one database connection's vendor."""

    def __init__(self, alias: str):
        connection = connections[alias]
        qn = connection.ops.quote_name
        self.columns = [("n", Notification._meta.get_field(name)) for name in ROW_FIELDS] + [
            ("m", Message._meta.get_field(name)) for name in MESSAGE_FIELDS
        ]
        columns = ", ".join(f"{table}.{qn(field.column)}" for table, field in self.columns)

        def col(model, name):
            return qn(model._meta.get_field(name).column)

        n_id, n_created = col(Notification, "id"), col(Notification, "created")
        n_expires = col(Notification, "expires_at")  # the row's copy of its message's expiry
        m_id, n_message = col(Message, "id"), col(Notification, "message")
        rows = (
            f"FROM {qn(Notification._meta.db_table)} n "
            f"INNER JOIN {qn(Message._meta.db_table)} m ON m.{m_id} = n.{n_message} "
            f"WHERE n.{col(Notification, 'recipient')} = %s AND (n.{n_expires} IS NULL OR n.{n_expires} > %s)"
        )
        self.select = f"SELECT {columns} {rows}"
        # The same with the user's bounded unread count as a last column (computed once).
        self.select_counting = f"SELECT {columns}, {unread_count_sql(connection, '%s')} {rows}"
        self.unread = f" AND n.{col(Notification, 'read_at')} IS NULL"
        self.kind = f" AND m.{col(Message, 'kind')} = %s"
        self.level = f" AND m.{col(Message, 'level')} = %s"
        # The redundant `created <= cursor` bound lets the database seek into the index (see
        # NotificationQuerySet.before).
        self.before = f" AND n.{n_created} <= %s AND (n.{n_created} < %s OR n.{n_id} < %s)"
        self.order = f" ORDER BY n.{n_created} DESC, n.{n_id} DESC LIMIT %s"
        self._converters = None

    def converters(self, connection) -> list[tuple[int, Callable]]:
        """(position, convert(value)) for each column whose values the backend converts."""
        if self._converters is None:
            found = []
            for position, (table, field) in enumerate(self.columns):
                column = field.get_col(table)
                convs = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if convs:
                    found.append((position, _converter(convs, column, connection)))
            self._converters = found
        return self._converters


def _converter(convs: list, column, connection) -> Callable:
    """The backend's converters for `column` as one function of the value.

    SQLite's driver already parses a DateTimeField's text, and with USE_TZ the backend's converter
    then only attaches the connection's time zone to it: done here directly, that takes a third of
    the time (20 times per dashboard page); any other value goes through the backend's converters.
    """

    def chain(value):
        for convert in convs:
            value = convert(value, column, connection)
        return value

    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return chain
    if convs != [connection.ops.convert_datetimefield_value]:
        return chain
    zone = connection.timezone

    def aware(value):
        if value.__class__ is datetime and value.tzinfo is None:
            return value.replace(tzinfo=zone)
        return chain(value)

    return aware


@cache
def _query(vendor: str, alias: str) -> _Query:
    return _Query(alias)


def _forget_queries(*, setting, **kwargs) -> None:
    # The converters depend on USE_TZ and the database's time zone (tests change them).
    if setting in {"USE_TZ", "TIME_ZONE", "DATABASES"}:
        _query.cache_clear()


setting_changed.connect(_forget_queries, dispatch_uid="inbox.web.rows.forget_queries")
