"""View preconditions."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django_htmx.http import HttpResponseClientRedirect

__all__ = ["login_required", "staff_required"]


def login_required(view):
    """Django's login_required, but an htmx request (a badge poll after the session ended)
    gets a client-side redirect to the login page instead of the login page swapped in.
    Whatever the answer, no cache keeps it (Cache-Control: private, no-store): it is one
    user's. The service worker's offline copies are its own (the Cache API ignores this)."""

    @never_cache
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            next_url = request.htmx.current_url_abs_path or reverse("inbox:index")
            return HttpResponseClientRedirect(redirect_to_login(next_url).url)
        return redirect_to_login(request.get_full_path())

    return wrapper


def staff_required(view):
    """Logged-in staff only: anonymous users go to the login page, others get 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can send notifications.")
        return view(request, *args, **kwargs)

    return wrapper
