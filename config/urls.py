"""The demo site's URLs: the app under /inbox/, the site's own service worker at the root."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from django.views.generic import RedirectView

from inbox.pwa.views import service_worker

from . import admin as site_admin
from .demo import demo_logins

site_admin.register()

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inbox:index"), name="home"),
    path("inbox/", include("inbox.urls")),
    # The site's worker (scope "/") imports the app's handlers; INBOX_SERVICE_WORKER names it.
    path(
        "service-worker.js",
        service_worker,
        {"source": settings.BASE_DIR / "service-worker.js"},
        name="service_worker",
    ),
    # The login page names the demo logins while they work (evaluated only when it renders).
    path("accounts/login/", LoginView.as_view(extra_context={"demo_logins": demo_logins}), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
