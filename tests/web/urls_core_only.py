"""A site with the core and the web UI only (tests.web.test_core_only): its URLs are made when
first resolved, by then without the channels' apps."""

from __future__ import annotations

from django.urls import include, path
from django.views.generic import RedirectView

from inbox.urls import installed_urlpatterns

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inbox:index"), name="home"),  # the demo's pages link it
    path("inbox/", include((installed_urlpatterns(), "inbox"))),
    path("accounts/", include("django.contrib.auth.urls")),
]
