"""The fast path of the reads every page, poll and live update makes: the badge's count, a list's
rows, and a new message's rows for its connected recipients (real time), as SQL written out once
here (INBOX_FAST_READS, on by default; off, the QuerySets run instead).

Why: building and compiling the equivalent ORM query costs several times running it, on
PostgreSQL as on SQLite (docs/performance.md). What keeps it honest: the rules are
NotificationQuerySet's (``for_user``, ``visible``, ``unread``, ``before``, ``newest_first``), and
tests/web/test_rows.py, tests/test_models.py and tests/realtime/test_queries.py check every
statement here against them, for every filter, cursor and limit, on each database the tests run
on. A change to a rule there fails those tests until this module says the same.

Values are always bound parameters; rows come back as plain tuples (a list's in ROW_COLUMNS
order), with datetimes aware as the ORM gives them.
"""

from __future__ import annotations

from datetime import UTC
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from .models import Message, Notification

__all__ = ["ROW_COLUMNS", "count_unread", "message_rows", "newest_rows", "unread_count_sql"]

# What a list row reads: the notification's columns, then its message's.
ROW_COLUMNS = (
    (Notification, "id"),
    (Notification, "created"),
    (Notification, "read_at"),
    (Message, "id"),
    (Message, "text"),
    (Message, "url"),
    (Message, "level"),
    (Message, "kind"),
)


def count_unread(user_id: int, limit: int) -> int:
    """NotificationQuerySet's ``for_user(user).visible().unread()[:limit].count()``."""
    connection = _connection()
    sql = f"SELECT {unread_count_sql(connection, '%s')}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, _now(connection), limit])
        return cursor.fetchone()[0]


def unread_count_sql(connection, user: str, now: str = "%s", limit: str = "%s") -> str:
    """The bounded count as a scalar subquery: `user` is the SQL of the user's id (a placeholder,
    or a column of the outer query), `now` and `limit` the placeholders of the current time and
    the limit. A constant `user` is counted once per statement."""
    qn = connection.ops.quote_name
    n = {
        name: qn(Notification._meta.get_field(name).column) for name in ("recipient", "read_at", "expires_at")
    }
    rows = (
        f"SELECT 1 FROM {qn(Notification._meta.db_table)} u WHERE u.{n['recipient']} = {user} "
        f"AND u.{n['read_at']} IS NULL AND (u.{n['expires_at']} IS NULL OR u.{n['expires_at']} > {now}) "
        f"LIMIT {limit}"
    )
    return f"(SELECT COUNT(*) FROM ({rows}) c)"


def newest_rows(
    user_id: int,
    limit: int,
    *,
    count_to: int | None = None,
    unread: bool = False,
    cursor: tuple | None = None,
    kind: str = "",
    level: str = "",
) -> tuple[list[tuple], int | None]:
    """The rows of NotificationQuerySet's ``for_user(user).visible()`` (``.unread()``,
    ``.filter(message__kind=kind)``, ``.filter(message__level=level)``, ``.before(cursor)`` when
    asked) ``.newest_first()[:limit]`` with their messages, as tuples of ROW_COLUMNS; and with
    `count_to`, from the same statement, count_unread(user_id, count_to) (None without rows)."""
    connection = _connection()
    parts = _parts(connection.alias)
    now = _now(connection)
    if count_to is None:
        sql, params = parts["select"], [user_id, now]
    else:
        sql, params = parts["select_counting"], [user_id, now, count_to, user_id, now]
    if unread:
        sql += parts["unread"]
    if kind:
        sql += parts["kind"]
        params.append(kind)
    if level:
        sql += parts["level"]
        params.append(level)
    if cursor:
        created = connection.ops.adapt_datetimefield_value(cursor[0])
        sql += parts["before"]
        params += [created, created, cursor[1]]
    sql += parts["order"]
    params.append(limit)
    with connection.cursor() as db_cursor:
        db_cursor.execute(sql, params)
        fetched = db_cursor.fetchall()
    zone = _naive_zone(connection)
    if zone is not None:  # a database without time zones (SQLite) gives naive datetimes
        fetched = [(r[0], _aware(r[1], zone), _aware(r[2], zone), *r[3:]) for r in fetched]
    count = fetched[0][len(ROW_COLUMNS)] if fetched and count_to is not None else None
    return [row[: len(ROW_COLUMNS)] for row in fetched], count


def message_rows(message_id: int, user_ids: list[int], limit: int) -> list[tuple]:
    """(id, recipient_id, created, read_at, unread) of the message's notifications for these
    users, `unread` being each recipient's count_unread(recipient, limit): the rows real time
    sends a new message with (inbox.realtime.queries.sent_rows, which runs the same as a
    QuerySet with INBOX_FAST_READS off)."""
    connection = _connection()
    qn = connection.ops.quote_name
    n = {
        name: qn(Notification._meta.get_field(name).column)
        for name in ("id", "recipient", "created", "read_at", "message")
    }
    sql = (
        f"SELECT n.{n['id']}, n.{n['recipient']}, n.{n['created']}, n.{n['read_at']}, "
        f"{unread_count_sql(connection, 'n.' + n['recipient'])} "
        f"FROM {qn(Notification._meta.db_table)} n WHERE n.{n['message']} = %s "
        f"AND n.{n['recipient']} IN ({', '.join(['%s'] * len(user_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_now(connection), limit, message_id, *user_ids])
        fetched = cursor.fetchall()
    zone = _naive_zone(connection)
    if zone is not None:
        fetched = [(r[0], r[1], _aware(r[2], zone), _aware(r[3], zone), r[4]) for r in fetched]
    return fetched


def _connection():
    return connections[router.db_for_read(Notification)]


def _now(connection):
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _naive_zone(connection):
    """The zone naive datetimes from this database are in (DATABASES' TIME_ZONE, else UTC, as
    Django documents), or None when they come back aware or USE_TZ is off."""
    if not settings.USE_TZ or connection.features.supports_timezones:
        return None
    name = connection.settings_dict.get("TIME_ZONE")
    return ZoneInfo(name) if name else UTC


def _aware(value, zone):
    return value if value is None or value.tzinfo is not None else value.replace(tzinfo=zone)


@cache
def _parts(alias: str) -> dict[str, str]:
    """The statement's pieces for one database connection (quoted for its backend)."""
    qn = connections[alias].ops.quote_name

    def col(table, model, name):
        return f"{table}.{qn(model._meta.get_field(name).column)}"

    columns = ", ".join(
        col("n" if model is Notification else "m", model, name) for model, name in ROW_COLUMNS
    )
    n_created, n_id, n_expires = (col("n", Notification, name) for name in ("created", "id", "expires_at"))
    join = f"{col('m', Message, 'id')} = {col('n', Notification, 'message')}"
    rows = (
        f"FROM {qn(Notification._meta.db_table)} n INNER JOIN {qn(Message._meta.db_table)} m ON {join} "
        f"WHERE {col('n', Notification, 'recipient')} = %s AND ({n_expires} IS NULL OR {n_expires} > %s)"
    )
    return {
        "select": f"SELECT {columns} {rows}",
        "select_counting": f"SELECT {columns}, {unread_count_sql(connections[alias], '%s')} {rows}",
        "unread": f" AND {col('n', Notification, 'read_at')} IS NULL",
        "kind": f" AND {col('m', Message, 'kind')} = %s",
        "level": f" AND {col('m', Message, 'level')} = %s",
        # As NotificationQuerySet.before(), with its redundant `created <=` bound.
        "before": f" AND {n_created} <= %s AND ({n_created} < %s OR {n_id} < %s)",
        "order": f" ORDER BY {n_created} DESC, {n_id} DESC LIMIT %s",
    }
