"""Throttling: the page for a login locked out by django-axes, and a per-address rate limit
(django-ratelimit) for the endpoints that need no login."""

from __future__ import annotations

from functools import wraps

from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.shortcuts import render
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from .conf import inbox_setting

__all__ = ["lockout_response", "login_username", "rate_limited"]

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


def _rate(group, request) -> str:
    return inbox_setting("ANONYMOUS_RATE")


def rate_limited(view):
    """At most INBOX_ANONYMOUS_RATE requests per address (an IPv6 /64) to `view`; past it, a
    429 with a JSON error, counted in the shared cache (CACHES["default"])."""
    group = f"{view.__module__}.{view.__qualname__}"

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        usage = get_usage(request, group=group, key="ip", rate=_rate, method=ALL, increment=True)
        if usage and usage["should_limit"]:
            seconds = max(1, usage["time_left"])
            return JsonResponse(
                {"error": f"Too many requests from this address: try again in {seconds} seconds."},
                status=429,
                headers={"Retry-After": str(seconds)},
            )
        return view(request, *args, **kwargs)

    return wrapper
