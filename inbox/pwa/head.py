"""The installable app's part of every page's head (registered by PwaConfig.ready() in
inbox.web.extensions): the manifest, the service worker's URL, and the header that marks a
fragment the worker answered from its cache."""

from __future__ import annotations

from django.urls import reverse

from inbox.conf import inbox_setting

from .views import SAVED_HEADER

__all__ = ["head_part"]


def head_part() -> dict:
    return {
        "pwa": True,
        "service_worker_url": reverse(inbox_setting("SERVICE_WORKER")),
        "saved_header": SAVED_HEADER,
    }
