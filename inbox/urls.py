"""The app's URLs: include them once, at the prefix of your choice (the demo site: "inbox/").
Only the installed apps of Inbox have URLs here; every name is in the "inbox" namespace."""

from __future__ import annotations

from django.apps import apps
from django.urls import include, path

app_name = "inbox"

# Each app's URLs, by app: "" mounts them at the prefix itself.
APP_URLS = [
    ("inbox.web", "", "inbox.web.urls"),
    ("inbox.push", "push/", "inbox.push.urls"),
    ("inbox.mail", "mail/", "inbox.mail.urls"),
    ("inbox.pwa", "", "inbox.pwa.urls"),
    ("inbox.realtime", "", "inbox.realtime.urls"),
]


def installed_urlpatterns() -> list:
    """The URLs of the apps of Inbox in INSTALLED_APPS."""
    return [path(prefix, include(module)) for app, prefix, module in APP_URLS if apps.is_installed(app)]


urlpatterns = installed_urlpatterns()
