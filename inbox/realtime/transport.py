"""Which transport carries events between processes: "database" or "layer"."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from inbox.conf import inbox_setting

__all__ = ["GROUP", "transport"]

TRANSPORTS = ("database", "layer")
GROUP = "inbox.realtime"  # the channel-layer group every web process's hub listens to
IN_MEMORY = "channels.layers.InMemoryChannelLayer"


def transport() -> str:
    """INBOX_REALTIME_TRANSPORT, else "layer" when a channel layer that reaches other processes
    is configured (not the in-memory one, which serves one process only), else "database"."""
    chosen = inbox_setting("REALTIME_TRANSPORT")
    if chosen is None:
        backend = getattr(settings, "CHANNEL_LAYERS", {}).get("default", {}).get("BACKEND", "")
        return "layer" if backend and backend != IN_MEMORY else "database"
    if chosen not in TRANSPORTS:
        raise ImproperlyConfigured(f"INBOX_REALTIME_TRANSPORT must be one of {', '.join(TRANSPORTS)}.")
    return chosen
