"""The site's URLs plus the benchmark's floor view, which the site itself never serves."""

from __future__ import annotations

from django.urls import include, path

from .views import trivial

urlpatterns = [
    path("bench/trivial/", trivial, name="bench-trivial"),
    path("", include("config.urls")),
]
