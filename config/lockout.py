"""The site's django-axes hooks (login throttling is the site's, not the inbox app's): the page
for a locked-out login and the username axes records."""

from __future__ import annotations

from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off
from django.shortcuts import render

__all__ = ["lockout_response", "login_username"]

USERNAME_MAX_LENGTH = 255  # django-axes's AccessAttempt.username column


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a 429 page that says when to try again (also a Retry-After)."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    response = render(request, "registration/lockout.html", {"minutes": minutes}, status=429)
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


def login_username(request, credentials=None):
    """AXES_USERNAME_CALLABLE: the username tried, as django-axes would read it, cut to the
    column it records it in. Django's login form does not bound the username, and PostgreSQL
    refuses a longer value (a 500 on a failed login with a 5,000-character username)."""
    source = credentials or getattr(request, "data", request.POST)
    username = source.get(axes_settings.AXES_USERNAME_FORM_FIELD)
    return username[:USERNAME_MAX_LENGTH] if isinstance(username, str) else username
