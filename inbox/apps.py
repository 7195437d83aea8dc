from __future__ import annotations

from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import privacy

        privacy.connect_signals()
        from . import push_session

        push_session.connect_signals()
        from . import checks  # noqa: F401 -- registers the system checks
