"""The app's URLs: include them once, at the prefix of your choice (the demo site: "inbox/").
Only the installed apps of Inbox have URLs here; every name is in the "inbox" namespace."""

from __future__ import annotations

from django.urls import include, path

from . import app_urls

app_name = "inbox"


def installed_urlpatterns() -> list:
    """The URLs of the apps of Inbox in INSTALLED_APPS (inbox.app_urls)."""
    return [path(prefix, include(module)) for prefix, module in app_urls.installed()]


urlpatterns = installed_urlpatterns()
