"""The staff send form and the preferences form."""

from __future__ import annotations

import calendar
import re

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inbox import kinds
from inbox.kinds import CHANNELS
from inbox.models import MESSAGE_MAX_LENGTH, URL_MAX_LENGTH, Level
from inbox.preferences import (
    TIMEZONE_MAX_LENGTH,
    DigestSetting,
    clean_timezone,
    grid,
    save_choices,
    timezones,
)
from inbox.recipients import select_recipients
from inbox.validators import clean_expiry, clean_link, clean_text


class SendForm(forms.Form):
    message = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}), strip=True
    )
    usernames = forms.CharField(
        label="Users",
        required=False,
        help_text="One or more usernames, separated by commas or spaces.",
    )
    group = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"), required=False, empty_label="(no group)"
    )
    all_users = forms.BooleanField(label="All active users", required=False)
    url = forms.CharField(
        label="Link",
        required=False,
        max_length=URL_MAX_LENGTH,
        help_text="Optional: an https:// URL or a path on this site such as /inbox/.",
    )
    kind = forms.ChoiceField(
        required=False,
        initial=kinds.GENERAL,
        help_text="Users choose, per kind, how it reaches them (their preferences page).",
    )
    level = forms.ChoiceField(choices=Level.choices, initial=Level.INFO)
    expires_at = forms.DateTimeField(
        label="Expires",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional, in the site's time zone. After it, the notification disappears.",
    )

    def __init__(self, *args, sender=None, **kwargs):
        """`sender`: the user sending; only staff may send a "must deliver" kind (and see it)."""
        super().__init__(*args, **kwargs)
        self.sender_is_staff = bool(sender and sender.is_staff)
        self.fields["kind"].choices = kinds.choices()  # every kind is valid input...
        self.fields["kind"].widget.choices = kinds.choices(staff=self.sender_is_staff)  # ...offered ones

    def clean_kind(self):
        kind = kinds.get(self.cleaned_data["kind"] or kinds.GENERAL)
        if kind.must_deliver and not self.sender_is_staff:
            raise ValidationError(f"Only staff can send {kind.label}.", code="staff_only")
        return kind.key

    def clean_message(self):
        return clean_text(self.cleaned_data["message"])

    def clean_url(self):
        return clean_link(self.cleaned_data["url"])

    def clean_expires_at(self):
        return clean_expiry(self.cleaned_data["expires_at"])

    def clean(self):
        cleaned = super().clean()
        group = cleaned.get("group")
        try:
            cleaned["recipients"] = select_recipients(
                usernames=re.split(r"[\s,]+", cleaned.get("usernames", "")),
                group_names=[group.name] if group else [],
                all_users=cleaned.get("all_users", False),
            )
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


DIGEST_FIELDS = ("frequency", "hour", "weekday", "timezone")  # what the form sets of a DigestSetting


class PreferencesForm(forms.Form):
    """The preferences grid (one checkbox per kind and channel; locked cells disabled, so a POSTed
    value for them is ignored) and the digest's schedule."""

    frequency = forms.ChoiceField(label="How often", choices=DigestSetting.Frequency.choices)
    hour = forms.TypedChoiceField(
        label="Time of day", coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)]
    )
    weekday = forms.TypedChoiceField(
        label="On (weekly)", coerce=int, choices=list(enumerate(calendar.day_name))
    )
    timezone = forms.CharField(
        label="Time zone",
        max_length=TIMEZONE_MAX_LENGTH,
        help_text="Such as Europe/Paris or America/New_York.",
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        self.digest = None  # as stored: the page says when the next one is due
        initial = {}
        if apps.is_installed("inbox.mail"):  # digests are email's: without it, the grid alone
            self.digest = DigestSetting.objects.filter(user=user).first() or DigestSetting(
                user=user, timezone=settings.TIME_ZONE if settings.TIME_ZONE in timezones() else "UTC"
            )
            initial = {name: getattr(self.digest, name) for name in DIGEST_FIELDS}
        super().__init__(*args, initial=initial, **kwargs)
        if self.digest is None:
            for name in DIGEST_FIELDS:
                del self.fields[name]
        self.grid = grid(user)
        for kind, cells in self.grid:
            for cell in cells:
                self.fields[cell.name] = forms.BooleanField(
                    label=f"{kind.label}: {CHANNELS[cell.channel]}",
                    required=False,
                    initial=cell.enabled,
                    disabled=bool(cell.locked),
                    widget=forms.CheckboxInput(
                        attrs={"aria-describedby": f"locked-{kind.key}"} if cell.locked else {}
                    ),
                )

    def rows(self):
        """(kind, [(cell, bound field)], which cells are locked and why) per kind, for the table."""
        return [
            (kind, [(cell, self[cell.name]) for cell in cells], lock_note(kind, cells))
            for kind, cells in self.grid
        ]

    def timezone_names(self):
        """The datalist the time zone field suggests from (no JavaScript needed)."""
        return sorted(timezones())

    def clean_timezone(self):
        return clean_timezone(self.cleaned_data["timezone"])

    def save(self) -> None:
        """Store the grid and the digest's schedule. The digest row is written by its user's id,
        not from the instance read when the form was made: another save (a double click) may
        have made the row since, and a sent digest may have moved its cursor. Only the schedule's
        columns and next_due_at are written, never the cursor, last_sent_at or a running digest's
        lease; the new next_due_at is also how that run's write-back sees the schedule changed
        and leaves it alone (inbox.mail.digests)."""
        data = self.cleaned_data
        choices = {
            (cell.kind.key, cell.channel): data[cell.name]
            for _, cells in self.grid
            for cell in cells
            if not cell.locked
        }
        if self.digest is None:
            save_choices(self.user, choices)
            return
        schedule = {name: data[name] for name in DIGEST_FIELDS}
        schedule["next_due_at"] = DigestSetting(**schedule).next_due(timezone.now())
        with transaction.atomic():
            save_choices(self.user, choices)
            if data["frequency"] == DigestSetting.Frequency.OFF:
                # No row means no digest: turn off the row there is, make none.
                DigestSetting.objects.filter(user=self.user).update(**schedule)
            else:
                # Locks the row, or inserts it and, if another insert won, updates that one.
                DigestSetting.objects.update_or_create(user=self.user, defaults=schedule)


def lock_note(kind, cells) -> str:
    """Which of a kind's channels the user cannot change, and why ("Always on: In the inbox, Push,
    Email. Never: Email digest. Security alerts must reach you: only staff send them."), or ""."""
    locked = [cell for cell in cells if cell.locked]
    if not locked:
        return ""
    on = [cell.label for cell in locked if cell.enabled]
    off = [cell.label for cell in locked if not cell.enabled]
    parts = [f"Always on: {', '.join(on)}." if on else "", f"Never: {', '.join(off)}." if off else ""]
    why = (
        f"{kind.label} must reach you, so you cannot change how: only staff send them."
        if kind.must_deliver
        else " ".join(dict.fromkeys(cell.locked for cell in locked))
    )
    return " ".join(part for part in (*parts, why) if part)
