"""The app mounted at another prefix, for tests that change ROOT_URLCONF."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("elsewhere/", include("inbox.urls"))]
