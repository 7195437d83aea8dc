"""The app's URLs: include them once, at the prefix of your choice (the demo site: "inbox/")."""

from __future__ import annotations

from django.urls import include, path

app_name = "inbox"

urlpatterns = [
    path("", include("inbox.web.urls")),
    path("push/", include("inbox.push.urls")),
    path("mail/", include("inbox.mail.urls")),
    path("", include("inbox.pwa.urls")),
    path("", include("inbox.realtime.urls")),
]
