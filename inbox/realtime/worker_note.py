"""What `manage.py inbox_worker` says of real time when it starts (inbox.worker_jobs): how the
events it sends reach the web processes' sockets. A worker that sends through another transport
than the web processes read (no REDIS_URL here, Redis there) delivers nothing live, and nothing
fails to say so."""

from __future__ import annotations

from django.conf import settings

from .transport import transport

__all__ = ["route"]


def route() -> str:
    if transport() == "layer":
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]  # the URL may hold a password
        return (
            f"Real-time events go through the channel layer ({backend}): the web processes must "
            "use the same one (the same REDIS_URL)."
        )
    return (
        "Real-time events go through the database (no REDIS_URL): web processes that use Redis "
        "will not see them; give every process the same REDIS_URL."
    )
