"""The URLs of a site with the core and the web UI only (tests/core_only_settings.py)."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("inbox/", include("inbox.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
]
