from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .badge import badge_for
from .conf import inbox_setting
from .pwa_views import SAVED_HEADER


def inbox(request):
    """The bell's badge for every page, counted only if the page renders the bell."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_saved_header": SAVED_HEADER}
    return {
        "inbox_saved_header": SAVED_HEADER,
        "inbox_badge": SimpleLazyObject(lambda: badge_for(user)),
        "inbox_poll_seconds": inbox_setting("BADGE_POLL_SECONDS"),
        "inbox_vapid_public_key": settings.WEBPUSH_SETTINGS.get("VAPID_PUBLIC_KEY", ""),
    }
