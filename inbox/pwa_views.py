"""The installable-app pieces: the service worker, the web app manifest and the offline page."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from . import privacy, views

# On a fragment the service worker answered from its cache: the page (pwa.js) then says the
# server could not be reached. Given to both, so they cannot disagree on the name.
SAVED_HEADER = "X-Inbox-Saved"

SHELL_STATIC = [  # the app shell, precached when the service worker installs
    "inbox/inbox.css",
    "inbox/vendor/htmx-4.0.1.min.js",
    "inbox/bell.js",
    "inbox/pwa.js",
    "inbox/push.js",
    "inbox/errors.js",
    "inbox/poll.js",
    "inbox/focus.js",
    "inbox/icons/icon.svg",
    "inbox/icons/icon-192.png",
    "inbox/icons/icon-512.png",
    "inbox/icons/badge-72.png",
]


def offline_dropdown_url() -> str:
    """The bell's dropdown when nothing of the user's is saved: a note and a link."""
    return f"{reverse('offline')}?part=dropdown"


def worker_values() -> dict[str, object]:
    """What the worker's placeholders stand for: every URL is reversed, never hard-coded."""
    return {
        "OFFLINE_URL": reverse("offline"),
        "OFFLINE_DROPDOWN_URL": offline_dropdown_url(),
        "ICON_URL": static("inbox/icons/icon-192.png"),
        "BADGE_URL": static("inbox/icons/badge-72.png"),
        "INBOX_URL": reverse("inbox:index"),
        "DROPDOWN_URL": reverse("inbox:dropdown"),
        "PUSH_READ_URL": reverse("inbox:push_read"),
        "PUSH_RENEW_URL": reverse("inbox:push_renew"),
        "LOGIN_URLS": [reverse("login"), reverse("admin:login")],
        "LOGOUT_URLS": [reverse("logout"), reverse("admin:logout")],
        "OWNER_HEADER": privacy.OWNER_HEADER,
        "EXPIRES_HEADER": privacy.EXPIRES_HEADER,
        "SAVED_HEADER": SAVED_HEADER,
        "FILTERS": list(views.FILTERS),
        "DEFAULT_FILTER": views.DEFAULT_FILTER,
    }


@cache
def service_worker_source() -> str:
    """service-worker.js with the shell's (hashed) URLs, the site's URLs and a version derived
    from them, so any change to the worker, the shell or a URL installs a new worker with a new
    cache. A placeholder is "__NAME__" (a string) or ["__NAME__"] (a list)."""
    source = (settings.BASE_DIR / "service-worker.js").read_text()
    shell = [static(path) for path in SHELL_STATIC] + [reverse("offline"), offline_dropdown_url()]
    values = {"SHELL": shell, **worker_values()}
    version = hashlib.sha256((source + json.dumps(values)).encode()).hexdigest()[:12]
    values["VERSION"] = version
    for name, value in values.items():
        placeholder = f'["__{name}__"]' if isinstance(value, list) else f'"__{name}__"'
        if placeholder not in source:
            raise ImproperlyConfigured(f"service-worker.js has no {placeholder} placeholder.")
        source = source.replace(placeholder, json.dumps(value))
    return source


@require_safe
@cache_control(no_cache=True)
def service_worker(request):
    response = HttpResponse(service_worker_source(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_safe
@cache_control(max_age=3600)
def manifest(request):
    icon = "inbox/icons/icon-{}.png"
    return JsonResponse(
        {
            "name": "Inbox notifications",
            "short_name": "Inbox",
            "description": "Your notifications, live and offline.",
            "id": reverse("inbox:index"),
            "start_url": reverse("inbox:index"),
            "scope": "/",
            "display": "standalone",
            "theme_color": "#3352d1",
            "background_color": "#f6f7f9",
            "icons": [
                {"src": static(icon.format(192)), "sizes": "192x192", "type": "image/png", "purpose": "any"},
                {"src": static(icon.format(512)), "sizes": "512x512", "type": "image/png", "purpose": "any"},
                {
                    "src": static("inbox/icons/maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        },
        content_type="application/manifest+json",
    )


@require_safe
def offline(request):
    """What the service worker shows for a page it has never cached, when the network is gone;
    with ?part=dropdown, what the bell's dropdown shows then."""
    part = request.GET.get("part", "")
    if part not in ("", "dropdown"):
        return HttpResponseBadRequest("Unknown part: use part=dropdown or none.")
    return render(request, "offline.html#dropdown" if part else "offline.html")
