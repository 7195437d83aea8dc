"""Throttling: a per-address rate limit (django-ratelimit) for the endpoints that need no login.
(Login throttling is the site's: the demo site's django-axes hooks are in config/lockout.py.)"""

from __future__ import annotations

from functools import wraps

from django.http import JsonResponse
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from .conf import inbox_setting

__all__ = ["rate_limited"]


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
