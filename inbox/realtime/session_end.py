"""When a socket's session ends. One timer per socket, set for the session's expiry and re-read
when it fires (an extended session re-arms it); the same check runs on an account event (hub.py)
and for a changed user (session_watch.py). A socket whose session no longer logs its user in
closes with 4401. A database error is retried with backoff, never past the session's end; a
session whose end has come while the database cannot say otherwise closes with 4503 (real time
down: the page polls, and its next socket checks afresh)."""

from __future__ import annotations

import asyncio
import logging

from django.utils import timezone

from .close_codes import LOGGED_OUT, REALTIME_DOWN
from .sessions import session_expiry
from .threads import in_thread

__all__ = ["SessionEnd"]

logger = logging.getLogger(__name__)
MAX_TIMER_SECONDS = 24 * 3600  # a far expiry is checked again daily
CHECK_RETRY_SECONDS, MAX_CHECK_RETRY_SECONDS = 1, 60  # a session check the database failed: backoff


class SessionEnd:
    """The session-end half of a consumer (RealtimeConsumer mixes it in): it uses the consumer's
    session_key, user_id, fingerprint, registered and hub."""

    expiry_timer: asyncio.TimerHandle | None = None
    checking: asyncio.Task | None = None  # a session check the timer started (kept referenced)
    check_failures = 0

    def stop_timer(self) -> None:
        if self.expiry_timer is not None:
            self.expiry_timer.cancel()
            self.expiry_timer = None

    def _arm(self, expiry, delay: float | None = None) -> None:
        """Check the session again when it ends (or after `delay`, a retry)."""
        self.expiry = expiry
        if delay is None:
            delay = min(max((expiry - timezone.now()).total_seconds(), 0), MAX_TIMER_SECONDS)
        loop = asyncio.get_running_loop()
        self.expiry_timer = loop.call_later(delay, self._check_later)

    def _check_later(self) -> None:
        self.checking = asyncio.get_running_loop().create_task(self.check_session())

    async def check_session(self) -> None:
        """Close the socket if its session no longer logs its user in; else wait for its end.
        Never raises: a database error is retried with backoff (CHECK_RETRY_SECONDS doubled, up
        to MAX_CHECK_RETRY_SECONDS, never past the session's end); a session whose end has come
        while the database cannot say otherwise is closed as real time down (4503: the page
        polls, and its next socket checks the session afresh)."""
        self.stop_timer()
        if not self.registered:
            return
        try:
            found = await in_thread(session_expiry, self.session_key, self.user_id)
        except Exception as error:
            self._check_failed(error)
            return
        if self.check_failures:
            logger.info("User %s's socket could check its session again", self.user_id)
            self.check_failures = 0
        if found is None or found[0] <= timezone.now():
            # In the background: the hub awaits this check (an account event), and a client that
            # stopped reading would hold the close, and all fan-out, for the close's timeout.
            self.hub.close_later(self, LOGGED_OUT)
        else:  # extended meanwhile (SESSION_SAVE_EVERY_REQUEST): look again then
            expiry, self.fingerprint = found
            self._arm(expiry)

    def _check_failed(self, error: Exception) -> None:
        if not self.registered:
            return
        self.check_failures += 1
        if self.check_failures == 1:
            logger.warning(
                "User %s's socket could not check its session (%r); trying again", self.user_id, error
            )
        left = (self.expiry - timezone.now()).total_seconds()
        if left <= 0:
            self.hub.close_later(self, REALTIME_DOWN)
            return
        backoff = CHECK_RETRY_SECONDS * 2 ** (self.check_failures - 1)
        self._arm(self.expiry, delay=min(backoff, MAX_CHECK_RETRY_SECONDS, left))
