"""What is stored: a message once, and one small row per recipient for its read state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from .signals import notification_read

MESSAGE_MAX_LENGTH = 2000
URL_MAX_LENGTH = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def parse_cursor(value: str) -> tuple[datetime, int]:
    """Read a "load more" cursor ("<microseconds since epoch>.<id>"); ValueError if malformed."""
    micros, _, pk = value.partition(".")
    digits = micros.isascii() and pk.isascii() and micros.isdigit() and pk.isdigit()  # "²".isdigit()
    if not digits or len(micros) > 18 or len(pk) > 18:
        raise ValueError("The paging cursor is not valid.")
    try:
        return EPOCH + int(micros) * ONE_MICROSECOND, int(pk)
    except OverflowError:  # past the year 9999
        raise ValueError("The paging cursor is not valid.") from None


class Level(models.TextChoices):
    INFO = "info", "Info"
    SUCCESS = "success", "Success"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class MessageQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """As QuerySet.update(); a new expires_at is copied onto the messages' deliveries first
        (one more UPDATE, in the same transaction), so Notification.expires_at stays in step."""
        if "expires_at" not in kwargs:
            return super().update(**kwargs)
        value = kwargs["expires_at"]
        if hasattr(value, "resolve_expression"):  # e.g. F(...) or bulk_update()'s Case: per message
            value = Subquery(self.filter(pk=OuterRef("message_id")).order_by().values(new=value))
        with transaction.atomic(using=self.db, savepoint=False):
            Notification.objects.using(self.db).filter(message__in=self.order_by().values("pk")).update(
                expires_at=value
            )
            return super().update(**kwargs)

    update.alters_data = True


_UNKNOWN = object()


class Message(models.Model):
    """The content of a notification, stored once however many users receive it."""

    text = models.TextField(max_length=MESSAGE_MAX_LENGTH)
    url = models.CharField(
        "link", max_length=URL_MAX_LENGTH, blank=True, help_text="An http(s) URL or a site path."
    )
    level = models.CharField(max_length=10, choices=Level, default=Level.INFO)
    # A key of inbox.kinds (checked by notify(), not by a choices list: kinds live in code).
    kind = models.CharField(max_length=64, default="general", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who sent it, if anyone.",
    )
    created = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.text[:80]

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        message = super().from_db(db, field_names, values, **kwargs)
        message._stored_expiry = message.__dict__.get("expires_at", _UNKNOWN)
        return message

    def save(self, **kwargs):
        """Saved as usual; when its expiry changed (from what was loaded), its deliveries' copies
        (Notification.expires_at) are rewritten in the same transaction: one more UPDATE."""
        update_fields = kwargs.get("update_fields")
        expiry = self.__dict__.get("expires_at", _UNKNOWN)  # _UNKNOWN: deferred, so not saved
        copy = (
            self.pk is not None
            and not kwargs.get("force_insert")
            and expiry is not _UNKNOWN
            and (update_fields is None or "expires_at" in update_fields)
            and (hasattr(expiry, "resolve_expression") or expiry != getattr(self, "_stored_expiry", _UNKNOWN))
        )
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            super().save(**kwargs)
            if copy:
                expiry = self.__dict__.get("expires_at", _UNKNOWN)  # the stored value, if RETURNed
                if expiry is _UNKNOWN or hasattr(expiry, "resolve_expression"):
                    expiry = _expiry_of(self.pk)
                Notification.objects.using(using).filter(message_id=self.pk).update(expires_at=expiry)
        self._stored_expiry = self.__dict__.get("expires_at", _UNKNOWN)

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def kind_label(self) -> str:
        """The kind's label ("Mention"), or its key for a kind since removed from the code."""
        from .kinds import get

        try:
            return get(self.kind).label
        except ValidationError:
            return self.kind


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(recipient=user)

    def visible(self, now=None):
        """Not expired: expired notifications are never shown or counted (by the row's copy of
        its message's expiry, so no join)."""
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def unread(self):
        return self.filter(read_at__isnull=True)

    def newest_first(self):
        return self.order_by("-created", "-id")

    def before(self, cursor: tuple):
        """Keyset paging: the rows after `cursor` = (created, id) in newest-first order.

        The redundant `created <= cursor` bound lets the database seek straight into the
        (recipient, created, id) index; the OR alone makes SQLite scan from the newest row.
        """
        created, pk = cursor
        return self.filter(created__lte=created).filter(Q(created__lt=created) | Q(id__lt=pk))

    def after(self, cursor: tuple):
        """The mirror of before(): the rows newer than `cursor` = (created, id), what a page
        showing `cursor` as its newest row has not seen yet."""
        created, pk = cursor
        return self.filter(created__gte=created).filter(Q(created__gt=created) | Q(id__gt=pk))

    def mark_read(self, now=None) -> int:
        return self.unread().update(read_at=now or timezone.now())

    def mark_unread(self) -> int:
        return self.filter(read_at__isnull=False).update(read_at=None)

    def bulk_create(self, objs, *args, **kwargs):
        """As QuerySet.bulk_create(); each row's expires_at is its message's, read by the INSERT
        (a value given is replaced). The instances get it from the database when first used."""
        objs = list(objs)
        for obj in objs:
            obj.take_message_expiry()
        created = super().bulk_create(objs, *args, **kwargs)
        for obj in objs:
            if hasattr(obj.__dict__.get("expires_at"), "resolve_expression"):
                del obj.__dict__["expires_at"]  # deferred: loaded on first access
        return created

    bulk_create.alters_data = True


def announce_read(user_id: int, notification_ids=(), *, all_read: bool = False) -> None:
    """Send notification_read once the change is committed (see inbox.signals)."""
    ids = tuple(notification_ids)
    transaction.on_commit(
        lambda: notification_read.send(
            sender=Notification, user_id=user_id, notification_ids=ids, all_read=all_read
        ),
        robust=True,
    )


class Notification(models.Model):
    """One recipient's copy of a message: who, which message, and whether it was read."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    created = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # A copy of message.expires_at, so that "expired?" reads this row, or the unread index, alone.
    # Kept in step by every writer: save() and bulk_create() take the message's, notify() copies it
    # in its INSERT ... SELECT, and Message.save() and Message.objects...update(expires_at=...)
    # rewrite it. Raw SQL that inserts rows or changes a message's expiry must do the same.
    expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            # Also the index behind message -> deliveries (so db_index=False above).
            models.UniqueConstraint(fields=["message", "recipient"], name="inbox_one_per_recipient"),
        ]
        indexes = [
            # The dashboard's "All" list: one index range scan, newest first.
            models.Index(fields=["recipient", "-created", "-id"], name="inbox_recipient_newest"),
            # The badge count and the "Unread" list touch only the unread rows, and read them
            # from the index alone: it holds expires_at (the count needs nothing else), message
            # (the list's join) and read_at, NULL in every entry, because SQLite reads the columns
            # of a partial index's condition from the table unless the index holds them (and then
            # prefers inbox_recipient_newest).
            models.Index(
                fields=["recipient", "-created", "-id", "message", "read_at", "expires_at"],
                condition=Q(read_at__isnull=True),
                name="inbox_unread_visible",
            ),
            # purge_notifications finds the expired rows by their copy of the expiry. Most rows
            # never expire, and only those that do are in it (a comparison on expires_at implies
            # the condition, so SQLite and PostgreSQL both use it).
            models.Index(fields=["expires_at"], condition=Q(expires_at__isnull=False), name="inbox_expiring"),
        ]

    def __str__(self) -> str:
        return f"{self.message} → {self.recipient_id}"

    def save(self, **kwargs):
        """Saved as usual, with expires_at set to the message's (a value given is replaced)."""
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "expires_at" in update_fields:
            self.take_message_expiry()
        super().save(**kwargs)

    def take_message_expiry(self) -> None:
        """Set expires_at to the message's, as a subquery the INSERT or UPDATE runs (no query of
        its own; save() then holds the stored value, returned by the database)."""
        message_id = self.message_id
        if message_id is None and type(self).message.is_cached(self) and self.message is not None:
            message_id = self.message.pk  # a message saved after it was given to this row
        if message_id is not None:
            self.expires_at = _expiry_of(message_id)

    def mark_read(self) -> None:
        if self.read_at is None:
            self.read_at = timezone.now()
            type(self).objects.filter(pk=self.pk).update(read_at=self.read_at)
            announce_read(self.recipient_id, [self.pk])

    def mark_unread(self) -> None:
        if self.read_at is not None:
            self.read_at = None
            type(self).objects.filter(pk=self.pk).update(read_at=None)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def cursor(self) -> str:
        """This row's keyset position, as it appears in a "load more" link."""
        return f"{(self.created - EPOCH) // ONE_MICROSECOND}.{self.pk}"


def _expiry_of(message_id: int) -> Subquery:
    """The expiry of message `message_id`, as a subquery of the statement it is used in."""
    return Subquery(Message._base_manager.filter(pk=message_id).order_by().values("expires_at"))


# The core's models in modules of their own; importing them here registers them. Each channel's
# models live in its own app (inbox.push, inbox.mail, inbox.realtime).
from .outbox.models import Handover  # noqa: E402, F401
from .preferences import DigestSetting, Preference  # noqa: E402, F401
