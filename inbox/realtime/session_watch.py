"""The session check: every INBOX_REALTIME_SESSION_CHECK_SECONDS each web process checks that
the sessions of all its sockets still log their users in, and closes (4401) the sockets of those
that no longer do. Events close a socket at once when a logout or an account change is seen
(hub.py), and a timer when its session expires (consumer.py); this catches what no event tells:
a session row deleted (an admin, a script, clearsessions) or users changed by a bulk update,
which sends no signal.

One check reads all the process's sessions and users in batches (sessions.live_sessions,
sessions.login_fingerprints), not a query per socket; only a socket whose user changed is then
checked in full (Django's get_user, as on connect). A failed check (the database away) is
logged once and runs again at the next interval."""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async

from inbox.conf import inbox_setting

from . import sessions
from .close_codes import LOGGED_OUT

__all__ = ["SessionWatch", "get_session_watch"]

logger = logging.getLogger(__name__)


def _read(session_keys, user_ids):
    return sessions.live_sessions(session_keys), sessions.login_fingerprints(user_ids)


class SessionWatch:
    """The process's open sockets (consumers with session_key, user_id and fingerprint), checked
    on an interval while there are any."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.consumers: set = set()
        self.task: asyncio.Task | None = None
        self.checking: asyncio.Task | None = None  # the task whose check is under way
        self.failing = False

    def add(self, consumer) -> None:
        self.consumers.add(consumer)
        if self.task is None:
            self.task = self.loop.create_task(self.run())

    def discard(self, consumer) -> None:
        self.consumers.discard(consumer)
        if not self.consumers and self.task is not None:
            # A socket the check closes is discarded from within the check (from a task of its
            # gather): cancelling the check then would cancel that close before its frame is
            # sent, and the page would keep a silent open socket. That check ends by itself.
            if self.task is not self.checking:
                self.task.cancel()
            self.task = None

    async def run(self) -> None:
        task = asyncio.current_task()
        while self.task is task:  # until discarded (another may have started since)
            await asyncio.sleep(inbox_setting("REALTIME_SESSION_CHECK_SECONDS"))
            self.checking = task
            try:
                await self.check()
            finally:
                if self.checking is task:
                    self.checking = None

    async def check(self) -> None:
        consumers = list(self.consumers)
        keys, users = {c.session_key for c in consumers}, {c.user_id for c in consumers}
        try:
            live, fingerprints = await database_sync_to_async(_read)(keys, users)
        except Exception:
            if not self.failing:
                seconds = inbox_setting("REALTIME_SESSION_CHECK_SECONDS")
                logger.exception("The real-time session check failed; it runs again in %s s", seconds)
            self.failing = True
            return
        if self.failing:
            logger.info("The real-time session check works again")
            self.failing = False
        ended, changed = [], []
        for consumer in consumers:
            if not consumer.registered:  # closed meanwhile
                continue
            fingerprint = fingerprints.get(consumer.user_id)
            if consumer.session_key not in live or fingerprint is None:
                ended.append(consumer.close(code=LOGGED_OUT))
            elif fingerprint != consumer.fingerprint:
                changed.append(consumer.check_session())
        results = await asyncio.gather(*ended, *changed, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):  # a socket gone meanwhile, or the database again
                logger.info("A socket's session check did not finish: %r", result)


_watch: SessionWatch | None = None


def get_session_watch() -> SessionWatch:
    """The process's watch (one per event loop, so a test's new loop gets a new one)."""
    global _watch
    loop = asyncio.get_running_loop()
    if _watch is None or _watch.loop is not loop:
        _watch = SessionWatch(loop)
    return _watch
