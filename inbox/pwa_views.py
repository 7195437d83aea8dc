"""The installable-app pieces: the service worker, the web app manifest and the offline page."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

SHELL_STATIC = [  # the app shell, precached when the service worker installs
    "inbox/inbox.css",
    "inbox/vendor/htmx-4.0.1.min.js",
    "inbox/bell.js",
    "inbox/pwa.js",
    "inbox/push.js",
    "inbox/icons/icon.svg",
    "inbox/icons/icon-192.png",
    "inbox/icons/icon-512.png",
    "inbox/icons/badge-72.png",
]


@cache
def service_worker_source() -> str:
    """service-worker.js with the shell's (hashed) URLs and a version derived from them, so
    any change to the worker or the shell installs a new worker with a new cache."""
    source = (settings.BASE_DIR / "service-worker.js").read_text()
    shell = [static(path) for path in SHELL_STATIC] + [reverse("offline")]
    version = hashlib.sha256((source + json.dumps(shell)).encode()).hexdigest()[:12]
    return (
        source.replace('"__VERSION__"', json.dumps(version))
        .replace('["__SHELL__"]', json.dumps(shell))
        .replace('"__OFFLINE_URL__"', json.dumps(reverse("offline")))
        .replace('"__ICON_URL__"', json.dumps(static("inbox/icons/icon-192.png")))
        .replace('"__BADGE_URL__"', json.dumps(static("inbox/icons/badge-72.png")))
    )


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
            "id": "/inbox/",
            "start_url": "/inbox/",
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
    """What the service worker shows for a page it has never cached, when the network is gone."""
    return render(request, "offline.html")
