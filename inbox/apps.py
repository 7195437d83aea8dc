from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InboxConfig(AppConfig):
    """The core: messages, notify(), kinds, preferences, the delivery registry and the outbox.
    Each channel is an app of its own (inbox.web, inbox.push, inbox.pwa, inbox.realtime,
    inbox.mail) that registers itself from its ready(); the core imports none of them."""

    name = "inbox"
    verbose_name = "Inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 -- registers the system checks
        from .cachetable import create_cache_tables
        from .conf import inbox_setting

        # The rate limits' cache table exists after `migrate`, with no other command to run.
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="inbox.cachetable")
        # The site's kinds of notification register themselves on import (see inbox.kinds).
        if kinds_module := inbox_setting("KINDS_MODULE"):
            import_module(kinds_module)
