from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from inbox import pwa_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inbox:index"), name="home"),
    path("inbox/", include("inbox.urls")),
    path("service-worker.js", pwa_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa_views.manifest, name="manifest"),
    path("offline/", pwa_views.offline, name="offline"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
