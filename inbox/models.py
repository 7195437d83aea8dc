"""What is stored: a message once, and one small row per recipient for its read state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from .signals import notification_read

MESSAGE_MAX_LENGTH = 2000
URL_MAX_LENGTH = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def parse_cursor(value: str) -> tuple[datetime, int]:
    """Read a "load more" cursor ("<microseconds since epoch>.<id>"); ValueError if malformed."""
    micros, _, pk = value.partition(".")
    if not (micros.isdigit() and pk.isdigit()) or len(micros) > 18 or len(pk) > 18:
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

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.text[:80]

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
        """Not expired: expired notifications are never shown or counted."""
        now = now or timezone.now()
        return self.filter(Q(message__expires_at__isnull=True) | Q(message__expires_at__gt=now))

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

    def mark_read(self, now=None) -> int:
        return self.unread().update(read_at=now or timezone.now())

    def mark_unread(self) -> int:
        return self.filter(read_at__isnull=False).update(read_at=None)


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
            # from the index alone: it holds message (for the join) and read_at, NULL in every
            # entry, because SQLite reads the columns of a partial index's condition from the
            # table unless the index holds them (and then prefers inbox_recipient_newest).
            models.Index(
                fields=["recipient", "-created", "-id", "message", "read_at"],
                condition=Q(read_at__isnull=True),
                name="inbox_unread_covering",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message} → {self.recipient_id}"

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


# Models of the sub-packages belong to this app; importing them here registers them.
from .mail.models import EmailBounce, EmailReceipt  # noqa: E402, F401
from .preferences import DigestSetting, Preference  # noqa: E402, F401
from .push.models import PushReceipt  # noqa: E402, F401
from .realtime.models import RealtimeEvent  # noqa: E402, F401
