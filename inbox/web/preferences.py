"""The preferences page: the grid of kinds x channels, the email digest's schedule, the email
status, the push switch and the browsers receiving push. The email and digest sections need
inbox.mail, the push sections inbox.push: a site without them gets the grid alone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.views.decorators.http import require_http_methods

from inbox.kinds import CHANNELS
from inbox.preferences import timezones

from .decorators import login_required
from .forms import PreferencesForm
from .views import wants_partial

SAVED = "Preferences saved."


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request):
    """GET shows the page; POST saves the grid and the digest: an htmx request gets the form back
    in place with a saved message (or its errors, 422), a plain POST is redirected back."""
    posted = request.method == "POST"
    form = PreferencesForm(request.user, request.POST if posted else None)
    saved = ""
    if posted and form.is_valid():
        form.save()
        if not request.htmx:
            messages.success(request, SAVED)
            return redirect("inbox:preferences")
        form, saved = PreferencesForm(request.user), SAVED

    mail = apps.is_installed("inbox.mail")
    context = {"form": form, "channels": CHANNELS, "saved": saved, "mail": mail}
    if mail:
        context |= {**email_context(request.user), "next_digest": next_digest(form.digest)}
    status = 422 if form.errors else 200
    if wants_partial(request):
        return render(request, "inbox/preferences.html#form", context, status=status)
    if push := apps.is_installed("inbox.push"):
        context |= push_context(request.user)
    context["push"] = push
    return render(request, "inbox/preferences.html", context, status=status)


def push_context(user) -> dict:
    """The push switch and the user's browsers receiving push (inbox.push installed)."""
    from webpush.models import SubscriptionInfo

    from inbox.push.keys import push_configured, vapid_public_key

    subscriptions = SubscriptionInfo.objects.filter(webpush_info__user=user).distinct()
    return {
        "subscriptions": subscriptions.order_by("-id"),
        "push_available": push_configured(),
        "inbox_vapid_public_key": vapid_public_key(),
    }


def email_context(user) -> dict:
    """The user's address, and the bounce that stopped email to it (None once the address changed)."""
    from inbox.mail.models import EmailBounce

    address = getattr(user, user.get_email_field_name(), "") or ""
    bounce = None
    if address:
        bounce = EmailBounce.objects.filter(user=user, address=address).order_by("-at").first()
    return {"email_address": address, "email_bounce": bounce}


def next_digest(setting, now: datetime | None = None) -> dict | None:
    """When the digest is next due, said in its own time zone ("tomorrow 14:00"), and how many
    notifications it would hold now; None while it is off."""
    from inbox.mail.digests import upcoming

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
