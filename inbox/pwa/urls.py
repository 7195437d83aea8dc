from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("sw.js", views.handlers, name="sw"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("offline/", views.offline, name="offline"),
]
