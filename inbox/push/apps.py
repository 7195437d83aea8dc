from __future__ import annotations

from django.apps import AppConfig


class PushConfig(AppConfig):
    """Web Push. Its tables keep the names they had in the core app (inbox_pushreceipt, ...)."""

    name = "inbox.push"
    label = "inbox_push"
    verbose_name = "Inbox: push"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from inbox import app_urls, delivery, kinds, purges, worker_jobs

        from . import checks

        if not checks.libraries_installed():
            return  # check_push_libraries names the missing extra
        from inbox.web import extensions

        # subscription_admin replaces django-webpush's admin (which sends unchecked pushes). Not
        # named admin.py: the admin's autodiscovery would import it, webpush or not.
        from . import preferences, session, subscription_admin  # noqa: F401
        from .models import old_receipts
        from .tasks import queue_push, sweep_push_subscriptions

        kinds.register_channel("push")
        delivery.register("push", queue_push, in_transaction=True)
        session.connect_signals()
        worker_jobs.register(self.name, "the push sweep", sweep_push_subscriptions, "PUSH_SWEEP_INTERVAL")
        purges.register(self.name, "old push receipts", old_receipts)
        extensions.add_to_bell(self.name, "inbox/push/toggle.html", preferences.bell_switch)
        extensions.add_to_preferences(
            self.name, "inbox/push/preferences.html", preferences.subscriptions_section
        )
        extensions.add_scripts(self.name, ["inbox/push.js"])
        app_urls.register(self.name, "push/", "inbox.push.urls")
