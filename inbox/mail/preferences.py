"""Email's parts of the preferences page (registered by MailConfig.ready() in
inbox.web.extensions): the user's address and its bounce, and when the next digest is due."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils import formats, timezone

from inbox.preferences import timezones

from .digests import upcoming
from .models import EmailBounce

__all__ = ["email_section", "next_digest"]


def email_section(user, form) -> dict:
    """The variables of inbox/mail/preferences.html."""
    return {**email_status(user), "next_digest": next_digest(form.digest)}


def email_status(user) -> dict:
    """The user's address, and the bounce that stopped email to it (None once the address changed)."""
    address = getattr(user, user.get_email_field_name(), "") or ""
    bounce = None
    if address:
        bounce = EmailBounce.objects.filter(user=user, address=address).order_by("-at").first()
    return {"email_address": address, "email_bounce": bounce}


def next_digest(setting, now: datetime | None = None) -> dict | None:
    """When the digest is next due, said in its own time zone ("tomorrow 14:00"), and how many
    notifications it would hold now; None while it is off."""
    now = now or timezone.now()
    if (found := upcoming(setting, now)) is None:
        return None
    due, count = found
    zone = ZoneInfo(setting.timezone) if setting.timezone in timezones() else UTC
    local = due.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    day = {0: "today", 1: "tomorrow"}.get(days) or formats.date_format(local, "l j F")
    when = "now (the next digest run sends it)" if due <= now else f"{day} {local:%H:%M}"
    return {"when": when, "zone": zone.key, "count": count}
