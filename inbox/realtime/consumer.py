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

import logging
import time
from dataclasses import replace

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from .catchup import catch_up
from .close_codes import LOGGED_OUT, TOO_MANY, UNSUPPORTED
from .events import session_hash
from .handshake import handshake_request
from .hub import get_hub
from .messages import Invalid, State, parse
from .sending import FrameSender
from .session_end import SessionEnd
from .session_watch import get_session_watch
from .sessions import session_user
from .threads import in_thread
from .throttle import retry_after

__all__ = ["RealtimeConsumer", "in_thread"]

logger = logging.getLogger(__name__)
MAX_STRIKES = 10  # malformed frames tolerated per socket
HELLO_BURST, HELLO_PER_SECOND = 5, 0.5  # catch-ups a page may ask for: a burst, then one per 2 s


def opening(request, session_key: str | None):
    """(seconds to wait, None) for a handshake one too many from its address (throttle.py), else
    (None, session_user(session_key)): both in one trip to a worker thread."""
    wait = retry_after(request)
    if wait is not None:
        return wait, None
    return None, session_user(session_key) if session_key else None


class RealtimeConsumer(SessionEnd, FrameSender, AsyncWebsocketConsumer):
    """The socket's life (connect, close) and the page's frames; when its session ends is
    SessionEnd's (session_end.py), getting frames out FrameSender's (sending.py)."""

    # No channel-layer channel of its own (with Redis, a subscription per socket): the process's
    # hub is the one listener (hub.py), and it calls the consumers it knows.
    channel_layer_alias = None
    user_id: int | None = None
    registered = False
    catching_up = missed = False

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
        self.start_sending()
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
        self.stop_timer()

    async def close(self, code=None, reason=None):
        self._forget()  # no more frames for a socket that is closing
        await super().close(code=code, reason=reason)

    def _forget(self) -> None:
        """The hub and the session check forget this socket (once)."""
        if self.registered:
            self.registered = False
            self.hub.unregister(self)
            self.watch.discard(self)

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
