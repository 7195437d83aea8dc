"""The installable-app pieces: the service worker, the web app manifest and the offline page."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render, resolve_url
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from inbox.conf import inbox_setting
from inbox.web import assets, views

from . import privacy

# The service worker's handlers: a script with placeholders that handlers_source() fills in.
WORKER_HANDLERS = Path(__file__).resolve().parent / "static" / "inbox" / "sw.js"

# On a fragment the service worker answered from its cache: the page (pwa.js) then says the
# server could not be reached. Given to both, so they cannot disagree on the name.
SAVED_HEADER = "X-Inbox-Saved"


def offline_dropdown_url() -> str:
    """The bell's dropdown when nothing of the user's is saved: a note and a link."""
    return f"{reverse('inbox:offline')}?part=dropdown"


def reversible(*names: str) -> list[str]:
    """The URLs of those names that this site has (a host project may have no admin, say)."""
    urls = []
    for name in names:
        try:
            urls.append(reverse(name))
        except NoReverseMatch:
            continue
    return urls


def worker_values() -> dict[str, object]:
    """What the worker's placeholders stand for: every URL is reversed, never hard-coded."""
    return {
        "OFFLINE_URL": reverse("inbox:offline"),
        "OFFLINE_DROPDOWN_URL": offline_dropdown_url(),
        "ICON_URL": static(assets.ICON.format(size=192)),
        "BADGE_URL": static(assets.BADGE_ICON),
        "INBOX_URL": reverse("inbox:index"),
        "DROPDOWN_URL": reverse("inbox:dropdown"),
        "PUSH_READ_URL": reverse("inbox:push_read"),
        "PUSH_RENEW_URL": reverse("inbox:push_renew"),
        "LOGIN_URLS": [resolve_url(settings.LOGIN_URL), *reversible("admin:login")],
        "LOGOUT_URLS": reversible("logout", "admin:logout"),
        "OWNER_HEADER": privacy.OWNER_HEADER,
        "EXPIRES_HEADER": privacy.EXPIRES_HEADER,
        "SAVED_HEADER": SAVED_HEADER,
        "FILTERS": list(views.FILTERS),
        "DEFAULT_FILTER": views.DEFAULT_FILTER,
    }


@cache
def handlers_source() -> str:
    """The app's service worker handlers (inbox/pwa/static/inbox/sw.js) with the shell's (hashed) URLs, the
    site's URLs and a version derived from them, so any change to the handlers, the shell or a
    URL installs a new worker with a new cache. A placeholder is "__NAME__" (a string) or
    ["__NAME__"] (a list)."""
    source = WORKER_HANDLERS.read_text()
    shell = [static(path) for path in [*assets.shell(), *inbox_setting("OFFLINE_ASSETS")]] + [
        reverse("inbox:offline"),
        offline_dropdown_url(),
    ]
    values = {"SHELL": shell, **worker_values()}
    version = hashlib.sha256((source + json.dumps(values)).encode()).hexdigest()[:12]
    values["VERSION"] = version
    return fill(source, values)


def fill(source: str, values: dict) -> str:
    for name, value in values.items():
        placeholder = f'["__{name}__"]' if isinstance(value, list) else f'"__{name}__"'
        if placeholder not in source:
            raise ImproperlyConfigured(f"The service worker script has no {placeholder} placeholder.")
        source = source.replace(placeholder, json.dumps(value))
    return source


def worker_response(source: str) -> HttpResponse:
    response = HttpResponse(source, content_type="text/javascript")
    # The script may live under the app's URL prefix and still control the whole site.
    response["Service-Worker-Allowed"] = "/"
    return response


@require_safe
@cache_control(no_cache=True)
def handlers(request):
    """The app's handlers: push, notification clicks, offline inbox. Registered as the service
    worker itself, or imported by the site's own worker with importScripts()."""
    return worker_response(handlers_source())


@require_safe
@cache_control(no_cache=True)
def service_worker(request, source: Path):
    """A site's own service worker from the file `source` (mount it at the site's root, e.g.
    /service-worker.js), with "__INBOX_SW__" in it replaced by the URL of the app's handlers."""
    return worker_response(fill(Path(source).read_text(), {"INBOX_SW": reverse("inbox:sw")}))


@require_safe
@cache_control(max_age=3600)
def manifest(request):
    icon = assets.ICON
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
                {
                    "src": static(icon.format(size=192)),
                    "sizes": "192x192",
                    "type": "image/png",
                    "purpose": "any",
                },
                {
                    "src": static(icon.format(size=512)),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "any",
                },
                {
                    "src": static(assets.MASKABLE_ICON),
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
    return render(request, "inbox/offline.html#dropdown" if part else "inbox/offline.html")
