from __future__ import annotations

from django.apps import AppConfig


class PwaConfig(AppConfig):
    """The installable app: service worker, manifest, offline page and privacy headers."""

    name = "inbox.pwa"
    label = "inbox_pwa"
    verbose_name = "Inbox: installable app"

    def ready(self):
        from inbox import app_urls
        from inbox.web import extensions

        from . import head, privacy

        privacy.connect_signals()
        extensions.add_to_head(self.name, head.head_part)
        extensions.add_scripts(self.name, ["inbox/pwa.js"])
        app_urls.register(self.name, "", "inbox.pwa.urls")
