from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """Real time over WebSockets. Its table keeps the name it had in the core app (inbox_realtimeevent)."""

    name = "inbox.realtime"
    label = "inbox_realtime"
    verbose_name = "Inbox: real time"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from inbox import app_urls, delivery, purges, worker_jobs
        from inbox.web import extensions

        from . import checks

        if not checks.libraries_installed():
            return  # check_realtime_libraries names the missing extra
        from . import events, worker_note
        from .models import old_events

        delivery.register("realtime", events.sent)
        events.connect_signals()
        purges.register(self.name, "old real-time events", old_events)
        worker_jobs.add_start_note(self.name, worker_note.route)
        # htmx's WebSocket extension (after htmx), and the page's socket.
        extensions.add_scripts(self.name, ["inbox/vendor/hx-ws-4.0.1.min.js", "inbox/realtime.js"])
        app_urls.register(self.name, "", "inbox.realtime.urls")
