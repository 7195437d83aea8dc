"""Web Push: subscriptions (django-webpush stores them), endpoint checks, the sender, delivery
tasks, read tokens, views and urls. A delivery channel: `ready()` registers it."""

from __future__ import annotations


def ready() -> None:
    """Called by InboxConfig.ready() when "inbox.push" is in INBOX_CHANNELS."""
    from inbox import delivery, kinds

    from . import admin, checks, session  # noqa: F401 -- admin: replaces django-webpush's, which sends unchecked
    from .tasks import queue_push

    kinds.register_channel("push")
    delivery.register("push", queue_push, in_transaction=True)
    session.connect_signals()
