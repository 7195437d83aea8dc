"""The codes a socket closes with, which the page script reads (realtime.js): whether to poll,
to reconnect, or neither."""

from __future__ import annotations

LOGGED_OUT = 4401  # not logged in, logged out or session expired: the page polls (and meets the login)
TOO_MANY = 4429  # opened too often from this address (a refused handshake: the page polls)
REALTIME_DOWN = 4503  # the source of events or the database failed: the page polls, and reconnects later
UNSUPPORTED = 1003  # too many malformed frames
TRY_AGAIN_LATER = 1013  # a client that stopped reading (hx-ws reconnects on it)
