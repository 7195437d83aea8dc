"""The public Python API for sending notifications.

from inbox.api import notify
notify(user, "Your export is ready", url="/exports/42/")
notify(Group.objects.get(name="staff"), "Deploy at 17:00", level="warning",
       expires_at=timezone.now() + timedelta(hours=6))
notify(user, "Build #12 passed", kind="build.finished")   # a kind the site registered
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections, router, transaction
from django.db.models import DateTimeField, Model, Q, QuerySet, Value

from . import delivery, kinds, outbox, preferences
from .conf import inbox_setting
from .models import Level, Message, Notification
from .recipients import resolve
from .signals import notification_sent
from .validators import clean_expiry, clean_level, clean_link, clean_text

__all__ = ["Sent", "notify"]


@dataclass(frozen=True)
class Sent:
    """What one notify() call created: the stored message and how many users received it."""

    message: Message
    count: int
    # Recipients who would get this kind by email but have no address (0 when the kind does not
    # email by default, or no email channel is installed).
    no_email: int = 0

    @property
    def summary(self) -> str:
        """What the form, the command and their tests say: "Sent to 3 recipients.", or
        "Sent to 3 recipients (1 has no email address)." when the kind is emailed."""
        said = f"Sent to {self.count} recipient{'' if self.count == 1 else 's'}"
        if self.no_email:
            said += f" ({self.no_email} {'has' if self.no_email == 1 else 'have'} no email address)"
        return f"{said}."


def notify(
    recipients,
    message: str,
    *,
    url: str = "",
    level: str = Level.INFO,
    expires_at: datetime | None = None,
    actor: Model | None = None,
    kind: str = kinds.GENERAL,
) -> Sent:
    """Send `message` to `recipients`: a user, an iterable or queryset of users, or a Group
    (its active members). `kind` is a key registered in inbox.kinds; recipients who turned that
    kind's "inbox" channel off get no row (and so nothing of it), and `count` leaves them out.

    Every argument is checked before anything is written; a bad one raises ValidationError.
    The message and every recipient row are written in one transaction, so a failure leaves
    nothing behind, and sending to nobody is an error too.
    """
    kind = kinds.get(kind)
    text = clean_text(message)
    link = clean_link(url)
    level = clean_level(level)
    expires_at = clean_expiry(expires_at)
    targets = resolve(recipients)
    if actor is not None and getattr(actor, "pk", None) is None:
        raise ValidationError("The actor must be a saved user.")

    using = router.db_for_write(Notification)
    with transaction.atomic(using=using):
        stored = Message.objects.using(using).create(
            text=text, url=link, level=level, expires_at=expires_at, actor=actor, kind=kind.key
        )
        if isinstance(targets, QuerySet):
            count = _insert_select(stored, kind, targets, using)
        else:
            count = _bulk_insert(stored, kind, targets, using)
        if count == 0:
            raise ValidationError(_nobody(kind, targets), code="empty")
        # Push and email record their hand-over here, in this transaction (outbox rows): a
        # rollback sends nothing, a crash after COMMIT loses nothing. The rows are enqueued right
        # after the commit, or by the worker's relay if that fails. Integrators, and the channels
        # that may be lost (real time, which polling makes up for), hear of it once committed; a
        # failure there never undoes the in-app notification.
        handed_over = delivery.record(stored)
        no_email = _without_address(stored, kind, using) if "email" in delivery.channels() else 0
        transaction.on_commit(partial(announce, stored, count), using=using, robust=True)
        transaction.on_commit(partial(delivery.deliver, stored.pk), using=using, robust=True)
        outbox.kick(handed_over)
    return Sent(message=stored, count=count, no_email=no_email)


def _nobody(kind, targets) -> str:
    """Why a send reached nobody: no recipients at all, or all of them turned the kind off."""
    anyone = targets.exists() if isinstance(targets, QuerySet) else bool(targets)
    if anyone:
        return f"Every recipient turned “{kind.label}” off in their inbox: nothing was sent."
    return "There are no recipients: nothing was sent."


def announce(message: Message, count: int) -> None:
    notification_sent.send(sender=Message, message=message, count=count)


def _without_address(message: Message, kind: kinds.Kind, using: str) -> int:
    """How many of the message's recipients want it by email but have no address: one COUNT over
    the rows just written, with the same routing clause as the email task. Only for a kind that
    emails by default (a kind users opt in to by email costs no query here, and reports 0)."""
    if not kind.default("email"):
        return 0
    address = f"recipient__{get_user_model().get_email_field_name()}"
    rows = Notification.objects.using(using).filter(message=message).order_by()
    return (
        preferences.route(rows, kind, "email")
        .filter(Q(**{address: ""}) | Q(**{f"{address}__isnull": True}))
        .count()
    )


def _bulk_insert(message: Message, kind: kinds.Kind, user_ids: list[int], using: str) -> int:
    """A list of users fans out like a queryset, a batch of ids at a time (bound parameters
    are limited), so no model instance is built per recipient."""
    users = get_user_model()._default_manager.order_by()
    size = inbox_setting("FANOUT_BATCH_SIZE")
    return sum(
        _insert_select(message, kind, users.filter(pk__in=user_ids[start : start + size]), using)
        for start in range(0, len(user_ids), size)
    )


def _insert_select(message: Message, kind: kinds.Kind, users: QuerySet, using: str) -> int:
    """INSERT ... SELECT: the database copies the recipients itself, no user enters Python. The
    users who turned this kind's in-app row off are left out by one NOT EXISTS in the same SELECT."""
    connection = connections[using]
    qn = connection.ops.quote_name
    model = users.model
    chosen = model._default_manager.using(using).filter(
        pk__in=users.order_by().values("pk")
    )  # IN also drops duplicates
    rows = preferences.route(chosen, kind, "inbox", user_ref="pk").order_by()
    # Each row also carries the message's expiry (Notification.expires_at, the copy reads use).
    rows = rows.annotate(
        inbox_message=Value(message.pk),
        inbox_created=Value(message.created, output_field=DateTimeField()),
        inbox_expires_at=Value(message.expires_at, output_field=DateTimeField()),
    ).values_list("pk", "inbox_message", "inbox_created", "inbox_expires_at")
    try:
        select_sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # queryset.none(), or a filter that can match nobody
        return 0
    columns = ", ".join(
        qn(Notification._meta.get_field(name).column)
        for name in ("recipient", "message", "created", "expires_at")
    )
    sql = f"INSERT INTO {qn(Notification._meta.db_table)} ({columns}) {select_sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
