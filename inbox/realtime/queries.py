"""The database reads of the hub and the consumer (synchronous: run through
database_sync_to_async). Each is bounded: a batch of users per query, never a query per user
for a broadcast, or per socket for the session check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends import signed_cookies
from django.db import connections, router
from django.db.models import Q
from django.utils import timezone

from inbox.badge import badge_count_limit, unread_count_sql
from inbox.conf import inbox_setting
from inbox.models import Message, Notification

__all__ = [
    "Row",
    "dropdown_items",
    "expired_rows",
    "live_sessions",
    "login_fingerprint",
    "login_fingerprints",
    "notifications",
    "sent_rows",
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


def _count_params(connection) -> list:
    """The parameters of unread_count_sql() with a column for the user: the time, the limit."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return [now, badge_count_limit()]


def sent_rows(message_id: int, user_ids) -> tuple[Message | None, list[Row]]:
    """The message (None if gone or expired) and its notifications for the users in `user_ids`
    (the connected ones), each with the recipient's unread count: one query per BATCH users."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.is_expired():
        return None, []
    connection = connections[router.db_for_read(Notification)]
    table = connection.ops.quote_name(Notification._meta.db_table)
    rows = []
    for batch in _batches(user_ids):
        sql = (
            "SELECT n.id, n.recipient_id, n.created, n.read_at, "
            f"{unread_count_sql(connection, 'n.recipient_id')} "
            f"FROM {table} n WHERE n.message_id = %s AND n.recipient_id IN ({', '.join(['%s'] * len(batch))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*_count_params(connection), message_id, *batch])
            rows.extend(_rows(connection, cursor.fetchall()))
    return message, rows


def _rows(connection, fetched) -> list[Row]:
    convert = connection.ops.convert_datetimefield_value if connection.vendor == "sqlite" else None
    out = []
    for pk, user_id, created, read_at, unread in fetched:
        if convert is not None:  # SQLite hands back a naive time (or text)
            created = convert(created, None, connection)
        out.append(Row(pk, user_id, created, read_at is not None, unread))
    return out


def unread_counts(user_ids) -> dict[int, int]:
    """{user id: unread count (bounded)} for `user_ids`: one query per BATCH users."""
    connection = connections[router.db_for_read(Notification)]
    users = get_user_model()._meta
    qn = connection.ops.quote_name
    counts = {}
    for batch in _batches(user_ids):
        sql = (
            f"SELECT p.{qn(users.pk.column)}, {unread_count_sql(connection, 'p.' + qn(users.pk.column))} "
            f"FROM {qn(users.db_table)} p WHERE p.{qn(users.pk.column)} IN ({', '.join(['%s'] * len(batch))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*_count_params(connection), *batch])
            counts.update(dict(cursor.fetchall()))
    return counts


def notifications(user_id: int, ids) -> dict[int, Notification]:
    """The user's visible notifications among `ids`, with their messages (one query)."""
    if not ids:
        return {}
    rows = Notification.objects.filter(recipient_id=user_id, pk__in=list(ids)).visible()
    return {n.pk: n for n in rows.select_related("message")}


def newer(
    user_id: int, show: str, cursor, limit: int, *, kind: str = "", level: str = ""
) -> list[Notification]:
    """The user's visible notifications newer than `cursor` = (created, id), newest first, in
    list `show` ("all" or "unread") filtered by `kind` and `level` ("" = any); the whole first
    page when `cursor` is None."""
    rows = Notification.objects.filter(recipient_id=user_id).visible().select_related("message")
    if show == "unread":
        rows = rows.unread()
    if kind:
        rows = rows.filter(message__kind=kind)
    if level:
        rows = rows.filter(message__level=level)
    if cursor is not None:
        created, pk = cursor
        rows = rows.filter(created__gte=created).filter(Q(created__gt=created) | Q(id__gt=pk))
    return list(rows.newest_first()[:limit])


def dropdown_items(user_id: int) -> list[Notification]:
    """What the bell's dropdown lists (as inbox.web.views.dropdown_context)."""
    rows = Notification.objects.filter(recipient_id=user_id).visible().unread().select_related("message")
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


def live_sessions(session_keys) -> set[str]:
    """The keys among `session_keys` of sessions that exist and have not expired. Database
    sessions (db, cached_db): one query per BATCH keys. Other engines are asked per key (a cache
    or file read, no query); signed-cookie sessions live in the browser and cannot end here."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if issubclass(store, signed_cookies.SessionStore):
        return set(session_keys)
    get_model_class = getattr(store, "get_model_class", None)  # the database engines' own hook
    if get_model_class is None:
        return {key for key in session_keys if store().exists(key)}
    rows = get_model_class()._default_manager
    live = set()
    for batch in _batches(set(session_keys)):
        found = rows.filter(session_key__in=batch, expire_date__gt=timezone.now())
        live.update(found.values_list("session_key", flat=True))
    return live


def login_fingerprint(user) -> int:
    """What of a user decides whether their sessions still log in: the password (the session's
    auth hash derives from it) and the active flag. Kept per socket; a change makes the socket's
    session be checked in full (Django's get_user)."""
    return hash((user.password, getattr(user, "is_active", True)))


def login_fingerprints(user_ids) -> dict[int, int]:
    """{user id: login_fingerprint} of the users among `user_ids` that still exist: one query
    per BATCH users."""
    users = get_user_model()._default_manager
    return {
        user.pk: login_fingerprint(user)
        for batch in _batches(user_ids)
        for user in users.filter(pk__in=batch)
    }
