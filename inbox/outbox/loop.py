"""The relay's loop, for `manage.py inbox_worker` (a thread) and `manage.py inbox_relay` (beside
any other worker): enqueue what is due every INBOX_RELAY_INTERVAL seconds, and put back the
deliveries of dead workers every half INBOX_TASK_LEASE_SECONDS."""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections

from inbox.conf import inbox_setting

from . import recover, relay_all

__all__ = ["keep_relaying", "relay_once"]

logger = logging.getLogger("inbox.outbox")


def relay_once(*, recovering: bool = True) -> int:
    """One pass: recovery (if asked), then every due row enqueued. A database or task backend
    error is logged and the pass ends; the next one tries again. Returns how many were enqueued."""
    try:
        if recovering:
            recover()
        return relay_all()
    except Exception:  # a database hiccup must not stop the loop
        logger.exception("The delivery relay failed; it tries again in %s s", inbox_setting("RELAY_INTERVAL"))
        return 0


def keep_relaying(stop: threading.Event | None = None) -> None:
    """Relay until `stop` is set (forever without one)."""
    stop = stop or threading.Event()
    recover_every = max(inbox_setting("TASK_LEASE_SECONDS") / 2, 1)
    next_recovery = 0.0
    while not stop.is_set():
        recovering = time.monotonic() >= next_recovery
        if recovering:
            next_recovery = time.monotonic() + recover_every
        close_old_connections()  # this thread's, if the database dropped them or they are too old
        relay_once(recovering=recovering)
        stop.wait(inbox_setting("RELAY_INTERVAL"))
    close_old_connections()
