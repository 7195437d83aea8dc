"""The app's URLs: include them once, at the prefix of your choice (the demo site: "inbox/").
Only the installed apps of Inbox have URLs here; every name is in the "inbox" namespace."""

from __future__ import annotations

from django.apps import apps
from django.urls import include, path

app_name = "inbox"

urlpatterns = []
if apps.is_installed("inbox.web"):
    from inbox.web.urls import urlpatterns as web_urlpatterns

    # Listed here rather than included: the badge, polled by every open tab, and the dashboard
    # resolve one level sooner.
    urlpatterns += web_urlpatterns
if apps.is_installed("inbox.push"):
    urlpatterns.append(path("push/", include("inbox.push.urls")))
if apps.is_installed("inbox.mail"):
    urlpatterns.append(path("mail/", include("inbox.mail.urls")))
if apps.is_installed("inbox.pwa"):
    urlpatterns.append(path("", include("inbox.pwa.urls")))
if apps.is_installed("inbox.realtime"):
    urlpatterns.append(path("", include("inbox.realtime.urls")))
