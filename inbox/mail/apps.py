from __future__ import annotations

from django.apps import AppConfig


class MailConfig(AppConfig):
    """Email and digests. Its tables keep the names they had in the core app (inbox_emailreceipt, ...)."""

    name = "inbox.mail"
    label = "inbox_mail"
    verbose_name = "Inbox: email"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from inbox import app_urls, delivery, kinds, worker_jobs
        from inbox.web import extensions

        from . import (
            checks,  # noqa: F401  (registers them)
            preferences,
        )
        from .tasks import queue_email, send_due_digests

        kinds.register_channel("email")
        kinds.register_channel("digest")
        delivery.register("email", queue_email, in_transaction=True)
        worker_jobs.register(self.name, "the digest run", send_due_digests, "DIGEST_INTERVAL")
        extensions.add_to_preferences(
            self.name, "inbox/mail/preferences.html", preferences.email_section, in_form=True
        )
        app_urls.register(self.name, "mail/", "inbox.mail.urls")
