"""The socket of one open page. It belongs to a logged-in user's session: an anonymous socket is
closed (4401), and so is the socket of a session that logs out (an event), expires (a timer,
set from the session's expiry date) or ends unannounced (a deleted session row, a user changed
by a bulk update: the process's session check, session_watch.py, on an interval). The page says
what it shows (messages.py); the hub sends it what changed, and a hello is answered with what it
missed (catchup.py).

A socket lives for hours and a process holds thousands, so what each one keeps and costs counts:
the session is read once on connect (with the user, in one trip to a worker thread), and every
trip runs in a throwaway copy of the socket's context (see `in_thread`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import replace

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from inbox.conf import inbox_setting

from .catchup import catch_up
from .events import session_hash
from .handshake import handshake_request
from .hub import get_hub
from .messages import Invalid, State, parse
from .session_watch import get_session_watch
from .sessions import session_expiry, session_user
from .throttle import retry_after

__all__ = ["RealtimeConsumer", "in_thread"]

logger = logging.getLogger(__name__)
TOO_MANY = 4429  # opened too often from this address (a refused handshake: the page polls)
LOGGED_OUT = 4401  # not logged in, logged out or session expired: the page polls (and meets the login)
UNSUPPORTED = 1003  # too many malformed frames
TRY_AGAIN_LATER = 1013  # a client that stopped reading (hx-ws reconnects on it)
MAX_QUEUED = 64  # frames waiting behind one the client has not taken yet
MAX_STRIKES = 10  # malformed frames tolerated per socket
HELLO_BURST, HELLO_PER_SECOND = 5, 0.5  # catch-ups a page may ask for: a burst, then one per 2 s
MAX_TIMER_SECONDS = 24 * 3600  # a far expiry is checked again daily
CHECK_RETRY_SECONDS, MAX_CHECK_RETRY_SECONDS = 1, 60  # a session check the database failed: backoff
REALTIME_DOWN = 4503  # the page polls, and opens its socket again later


async def in_thread(func, *args):
    """database_sync_to_async(func)(*args) in a copy of the caller's context. After each call
    asgiref sets every context variable again (a new object for each of Django's Locals, about
    20); in a socket's own context those copies would stay for the socket's life, a few dozen
    objects per socket for every full garbage collection to walk."""
    return await asyncio.create_task(database_sync_to_async(func)(*args))


def opening(request, session_key: str | None):
    """(seconds to wait, None) for a handshake one too many from its address (throttle.py), else
    (None, session_user(session_key)): both in one trip to a worker thread."""
    wait = retry_after(request)
    if wait is not None:
        return wait, None
    return None, session_user(session_key) if session_key else None


class RealtimeConsumer(AsyncWebsocketConsumer):
    # No channel-layer channel of its own (with Redis, a subscription per socket): the process's
    # hub is the one listener (hub.py), and it calls the consumers it knows.
    channel_layer_alias = None
    user_id: int | None = None
    registered = False
    catching_up = missed = False
    closing: asyncio.Task | None = None  # a close under way in the background (kept referenced)
    checking: asyncio.Task | None = None  # a session check the timer started (kept referenced)
    writer: asyncio.Task | None = None  # a send the client has not taken yet, and the frames after it

    async def connect(self):
        session_key = self.scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME)
        wait, found = await in_thread(opening, handshake_request(self.scope), session_key)
        if wait is not None:
            await self._refuse(wait)
            return
        await self.accept()  # then close with a code the page can read: no reconnect for 4401
        if found is None:
            await self.close(code=LOGGED_OUT)
            return
        self.user_id, expiry, self.fingerprint = found
        self.session_key = session_key
        self.session = session_hash(self.session_key)
        self.state = State()
        self.strikes = 0
        self.hello_allowance, self.hello_at = float(HELLO_BURST), time.monotonic()
        self.expiry_timer = None
        self.check_failures = 0
        self.queued: deque[str] = deque()
        self.hub = get_hub()
        self.hub.register(self)
        self.watch = get_session_watch()
        self.watch.add(self)
        self.registered = True
        self._arm(expiry)

    async def _refuse(self, seconds: int) -> None:
        """Refuse the handshake: a 429 saying when to retry where the server can answer it in
        HTTP (ASGI's websocket.http.response extension), else a close before accept."""
        if "websocket.http.response" not in self.scope.get("extensions", {}):
            await self.close(code=TOO_MANY)
            return
        body = f"Too many sockets opened from this address: try again in {seconds} seconds.".encode()
        await self.base_send(
            {
                "type": "websocket.http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"retry-after", str(seconds).encode()),
                ],
            }
        )
        await self.base_send({"type": "websocket.http.response.body", "body": body})

    async def dispatch(self, message):
        """As Channels' own, without its close_old_connections() in a worker thread before
        every message: this consumer reaches the database only through in_thread(), whose
        database_sync_to_async closes them around each call."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code):
        self._forget()
        timer = getattr(self, "expiry_timer", None)
        if timer is not None:
            timer.cancel()

    async def close(self, code=None, reason=None):
        self._forget()  # no more frames for a socket that is closing
        await super().close(code=code, reason=reason)

    def _forget(self) -> None:
        """The hub and the session check forget this socket (once)."""
        if self.registered:
            self.registered = False
            self.hub.unregister(self)
            self.watch.discard(self)

    # --- the session's end ------------------------------------------------------------------

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
        if self.expiry_timer is not None:
            self.expiry_timer.cancel()
            self.expiry_timer = None
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

    # --- frames -----------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if not self.registered:
            return
        try:
            kind, fields = parse(text_data, bytes_data)
        except Invalid as problem:
            await self._strike(str(problem))
            return
        if kind == "hello" and not self._may_catch_up():
            await self._strike("too many hellos")
            return
        for name, value in fields.items():
            setattr(self.state, name, value)
        if kind == "hello":
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Answer a hello. The reads run in a worker thread on a copy of the state; the hub
        leaves this socket alone meanwhile and says so (`missed`), and then the page catches
        up once more (with the updated state: only what is newer still)."""
        for _ in range(3):
            self.catching_up, self.missed = True, False
            state = replace(self.state, shown=set(self.state.shown))
            try:
                frame = await in_thread(catch_up, self.user_id, state)
            finally:
                self.catching_up = False
            self.state = state
            await self.send_frame_now(frame)
            if not self.missed:
                return

    def busy(self) -> bool:
        """True while a catch-up is under way: the hub skips this socket, which catches up again."""
        if self.catching_up:
            self.missed = True
        return self.catching_up

    def _may_catch_up(self) -> bool:
        now = time.monotonic()
        self.hello_allowance = min(
            HELLO_BURST, self.hello_allowance + (now - self.hello_at) * HELLO_PER_SECOND
        )
        self.hello_at = now
        if self.hello_allowance < 1:
            return False
        self.hello_allowance -= 1
        return True

    async def _strike(self, why: str) -> None:
        self.strikes += 1
        logger.info("Ignored a frame from user %s's socket: %s", self.user_id, why)
        if self.strikes >= MAX_STRIKES:
            await self.close(code=UNSUPPORTED)

    def send_frame(self, frame: str) -> asyncio.Task | None:
        """Start sending one of the hub's frames, and return at once: None when it is out
        already, else the send under way, for the hub to wait on with the rest of its broadcast
        (hub.Hub.sending). The send starts as an eager task, so one the socket takes without
        waiting, nearly every one, needs no task or timer at all. While a send waits (the
        client's buffer is full) the socket's next frames queue behind it, in order; beyond
        MAX_QUEUED the client is too far behind and is closed: its page reconnects and catches up."""
        if not self.registered:
            return None  # closing: no more frames
        if self.writer is not None and not self.writer.done():
            if len(self.queued) >= MAX_QUEUED:
                self.stalled("it is too far behind")
                return None
            self.queued.append(frame)
            return self.writer
        writer = asyncio.eager_task_factory(asyncio.get_running_loop(), self._write(frame))
        if writer.done():
            self._written(writer)
            return None
        self.writer = writer
        writer.add_done_callback(self._written)
        return writer

    async def _write(self, frame: str) -> None:
        await self.send(text_data=frame)
        while self.queued:
            await self.send(text_data=self.queued.popleft())

    def _written(self, writer: asyncio.Task) -> None:
        if writer is self.writer:
            self.writer = None
        if writer.cancelled():
            return
        if writer.exception() is not None:  # closed under our feet: its disconnect() unregisters it
            self.queued.clear()
            logger.debug("Could not send to a closing socket", exc_info=writer.exception())

    async def send_frame_now(self, frame: str) -> None:
        """send_frame(), then wait for it (at most INBOX_REALTIME_SEND_SECONDS): a catch-up."""
        writer = self.send_frame(frame)
        if writer is not None:
            done, _ = await asyncio.wait([writer], timeout=inbox_setting("REALTIME_SEND_SECONDS"))
            if not done:
                self.stalled()

    def stalled(self, why: str = "it takes no frames") -> None:
        """The client takes no frames (it stopped reading; its buffer is full): forget it now and
        close it in the background. The server's close writes a close frame to the same full
        buffer and waits for it (its close timeout): awaited here it would hold up the others."""
        if not self.registered:
            return
        logger.info("Closing user %s's socket: %s", self.user_id, why)
        self._forget()
        self.queued.clear()
        if self.writer is not None:
            self.writer.cancel()
        self.closing = asyncio.get_running_loop().create_task(self._close_quietly(TRY_AGAIN_LATER))

    async def _close_quietly(self, code: int) -> None:
        try:
            await self.close(code=code)
        except Exception:  # the client went away meanwhile: nothing left to close
            logger.debug("Could not close a socket that takes no frames", exc_info=True)
