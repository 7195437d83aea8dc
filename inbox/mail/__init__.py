"""Email: one email per notification for users who ask for it (batched, one SMTP connection per
batch, retried on 4xx, stopped by a bounce), digests, signed one-click unsubscribe and "mark as
read" links. A delivery channel: `ready()` registers it."""

from __future__ import annotations


def ready() -> None:
    """Called by InboxConfig.ready() when "inbox.mail" is in INBOX_CHANNELS."""
    from inbox import delivery, kinds

    from .tasks import queue_email

    kinds.register_channel("email")
    kinds.register_channel("digest")
    delivery.register("email", queue_email, in_transaction=True)
