"""What each user wants of each kind of notification, and the set queries that route by it.

Preferences are sparse: a row only where a user's choice differs from the kind's default, so a
kind added later reaches everyone as its defaults say, and routing 100,000 recipients is one
EXISTS / NOT EXISTS clause on the recipients' query, never a loop over users in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from . import kinds
from .kinds import CHANNELS, Kind

__all__ = [
    "Cell",
    "DigestSetting",
    "Preference",
    "clean_timezone",
    "grid",
    "kind_of",
    "route",
    "save_choices",
    "set_choice",
    "wanted",
]

TIMEZONE_MAX_LENGTH = 64


class Preference(models.Model):
    """One user's choice for one (kind, channel) cell, stored only where it differs from the kind's
    default. The kind is a key, not a foreign key: kinds live in code (inbox.kinds)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64)
    # One of kinds.CHANNELS, which the installed channels fill (not choices: a column a channel
    # registers is no migration); save_choices() and set_choice() refuse any other.
    channel = models.CharField(max_length=16)
    enabled = models.BooleanField()

    class Meta:
        constraints = [
            # Also the index behind the routing clause (user = outer.id AND kind = %s AND channel = %s).
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="inbox_one_preference_per_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} by {self.channel} {'on' if self.enabled else 'off'}"


class DigestSetting(models.Model):
    """A user's email digest: how often, when in their time zone, and where the last one stopped
    (a keyset cursor, so nothing is sent twice or skipped). No row means no digest."""

    class Frequency(models.TextChoices):
        OFF = "off", "Off"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=6, choices=Frequency, default=Frequency.OFF)
    hour = models.PositiveSmallIntegerField(default=8, validators=[MaxValueValidator(23)])
    weekday = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(6)], help_text="0 is Monday (weekly digests)."
    )
    timezone = models.CharField(max_length=TIMEZONE_MAX_LENGTH, default="UTC")
    last_cursor_created = models.DateTimeField(null=True, blank=True)
    last_cursor_id = models.BigIntegerField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # None while the digest is off; the digest run selects next_due_at <= now.
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The digest run holding this row (inbox.mail.digests): its write-back only lands while the
    # token is still its own; another run may take the row once leased_until has passed.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    leased_until = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.frequency} digest"

    def next_due(self, after: datetime) -> datetime | None:
        """The first moment after `after` at `hour`:00 in the user's time zone (on `weekday` for a
        weekly digest), in UTC; None when the digest is off."""
        if self.frequency not in (self.Frequency.DAILY, self.Frequency.WEEKLY):
            return None
        zone = ZoneInfo(self.timezone) if self.timezone in timezones() else UTC
        local = after.astimezone(zone).replace(hour=min(self.hour, 23), minute=0, second=0, microsecond=0)
        step = timedelta(days=1)
        if self.frequency == self.Frequency.WEEKLY:
            local += timedelta(days=(min(self.weekday, 6) - local.weekday()) % 7)
            step = timedelta(days=7)
        while local.astimezone(UTC) <= after:  # wall-clock steps: DST changes keep the hour
            local += step
        return local.astimezone(UTC)

    def schedule(self, now: datetime) -> None:
        """Set next_due_at from the settings (call before saving a changed setting or a sent digest)."""
        self.next_due_at = self.next_due(now)


@cache
def timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def clean_timezone(value) -> str:
    """An IANA time zone name this machine knows ("Europe/Paris"); ValidationError otherwise."""
    if not isinstance(value, str) or len(value) > TIMEZONE_MAX_LENGTH or value.strip() not in timezones():
        raise ValidationError("Unknown time zone: use a name such as Europe/Paris or UTC.", code="timezone")
    return value.strip()


def kind_of(key: str) -> Kind:
    """The registered kind, or (for a message whose kind was since removed from the code) a plain
    kind with the default channels."""
    try:
        return kinds.get(key)
    except ValidationError:
        return Kind(key, key)


def wanted(kind: Kind, channel: str, user_ref: str = "recipient") -> Q | Exists | None:
    """The condition, on a queryset whose `user_ref` field is the user, that keeps the users who
    want `channel` for `kind`: Q() for everyone (a locked cell that is on), None for nobody."""
    if kind.locked(channel):
        return Q() if kind.default(channel) else None
    overrides = Preference.objects.filter(user=OuterRef(user_ref), kind=kind.key, channel=channel)
    if kind.default(channel):
        return ~Exists(overrides.filter(enabled=False))
    return Exists(overrides.filter(enabled=True))


def route(queryset: QuerySet, kind: Kind, channel: str, user_ref: str = "recipient") -> QuerySet:
    """`queryset` narrowed to the users who want `channel` for `kind`: one clause, no loop."""
    condition = wanted(kind, channel, user_ref)
    return queryset.none() if condition is None else queryset.filter(condition)


@dataclass(frozen=True)
class Cell:
    """One checkbox of the preferences grid."""

    kind: Kind
    channel: str
    enabled: bool
    locked: str  # why the user cannot change it, or ""

    @property
    def name(self) -> str:
        return f"{self.kind.key}:{self.channel}"

    @property
    def label(self) -> str:
        return CHANNELS[self.channel]


def grid(user) -> list[tuple[Kind, list[Cell]]]:
    """Every kind with its cells, in the registry's and CHANNELS' order (one query)."""
    overrides = {(kind, channel): enabled for kind, channel, enabled in _overrides(user)}
    return [
        (
            kind,
            [
                Cell(kind, channel, _effective(kind, channel, overrides), kind.locked(channel))
                for channel in CHANNELS
            ],
        )
        for kind in kinds.all()
    ]


def _overrides(user):
    return Preference.objects.filter(user=user).values_list("kind", "channel", "enabled")


def _effective(kind: Kind, channel: str, overrides: dict) -> bool:
    if kind.locked(channel):
        return kind.default(channel)
    return overrides.get((kind.key, channel), kind.default(channel))


def save_choices(user, choices: dict[tuple[str, str], bool]) -> None:
    """Store the grid: for each (kind key, channel) given, an override where the choice differs
    from the kind's default and none where it matches; locked and unknown cells are ignored.
    Two statements whatever the grid's size."""
    keep, drop = [], Q(pk__in=[])
    for (key, channel), enabled in choices.items():
        try:
            kind = kinds.get(key)
        except ValidationError:
            continue
        if channel not in CHANNELS or kind.locked(channel):
            continue
        if bool(enabled) == kind.default(channel):
            drop |= Q(kind=key, channel=channel)
        else:
            keep.append(Preference(user=user, kind=key, channel=channel, enabled=bool(enabled)))
    with transaction.atomic():
        Preference.objects.filter(drop, user=user).delete()
        Preference.objects.bulk_create(
            keep,
            update_conflicts=True,
            unique_fields=["user", "kind", "channel"],
            update_fields=["enabled"],
        )


def set_choice(user, kind_key: str, channel: str, enabled: bool) -> bool:
    """One cell (the email unsubscribe link turns one kind's email off); False when the cell is
    locked, so the caller can say so. ValidationError for an unknown kind or channel."""
    kind = kinds.get(kind_key)
    if channel not in CHANNELS:
        raise ValidationError(f"Unknown channel: {channel[:20]}.", code="unknown_channel")
    if kind.locked(channel):
        return False
    save_choices(user, {(kind_key, channel): enabled})
    return True
