from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 -- registers the system checks
        from .conf import inbox_setting
        from .pwa import ready as pwa_ready

        pwa_ready()
        # Each delivery channel registers itself; the core imports none of them.
        for path in inbox_setting("CHANNELS"):
            import_module(path).ready()
        # The site's kinds of notification register themselves on import (see inbox.kinds).
        if kinds_module := inbox_setting("KINDS_MODULE"):
            import_module(kinds_module)
