"""The app's URLs: include them once, at the prefix of your choice (the demo site: "inbox/").
Only the installed apps of Inbox have URLs here; every name is in the "inbox" namespace."""

from __future__ import annotations

from django.apps import apps
from django.urls import include, path

app_name = "inbox"

# Each app's URLs, by app: "" mounts them at the prefix itself.
CHANNEL_URLS = [
    ("inbox.push", "push/", "inbox.push.urls"),
    ("inbox.mail", "mail/", "inbox.mail.urls"),
    ("inbox.pwa", "", "inbox.pwa.urls"),
    ("inbox.realtime", "", "inbox.realtime.urls"),
]


def installed_urlpatterns() -> list:
    """The URLs of the apps of Inbox in INSTALLED_APPS."""
    patterns = []
    if apps.is_installed("inbox.web"):
        from inbox.web.urls import urlpatterns as web_urlpatterns

        # Listed here rather than included: the badge, polled by every open tab, and the
        # dashboard resolve one level sooner.
        patterns += web_urlpatterns
    installed = [(prefix, module) for app, prefix, module in CHANNEL_URLS if apps.is_installed(app)]
    patterns += [path(prefix, include(module)) for prefix, module in installed]
    return patterns


urlpatterns = installed_urlpatterns()
