"""Settings of the ASGI test server (tests/e2e/asgi_server.py), a child process: the test
settings, on the test database the parent names in DATABASE_URL, with a badge that polls every
second so "within one poll" is quick to wait for."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403

INBOX_BADGE_POLL_SECONDS = int(os.environ.get("INBOX_E2E_POLL_SECONDS", "1"))
# Every tab of a test session opens its socket from 127.0.0.1: no per-address limit on opens
# (tests/realtime/test_connect_throttle.py tests it).
INBOX_REALTIME_CONNECT_RATE = None
