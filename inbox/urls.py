"""The app's URLs: include them once, at the prefix of your choice (the demo site: "inbox/")."""

from __future__ import annotations

from django.urls import include, path

from inbox.web.urls import urlpatterns as web_urlpatterns

app_name = "inbox"

urlpatterns = [
    # Listed here rather than included: the badge, polled by every open tab, and the dashboard
    # resolve one level sooner (about 2.5 us a request).
    *web_urlpatterns,
    path("push/", include("inbox.push.urls")),
    path("mail/", include("inbox.mail.urls")),
    path("", include("inbox.pwa.urls")),
    path("", include("inbox.realtime.urls")),
]
