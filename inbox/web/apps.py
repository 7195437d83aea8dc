from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    """The htmx UI: the dashboard, the bell's views, the send form and the preferences page."""

    name = "inbox.web"
    label = "inbox_web"
    verbose_name = "Inbox: web UI"

    def ready(self):
        from inbox import app_urls

        app_urls.register(self.name, "", "inbox.web.urls")
