"""The test settings with two socket opens a minute per address, for a real server
(tests/realtime/test_connect_throttle.py)."""

from __future__ import annotations

from tests.settings import *  # noqa: F403

INBOX_REALTIME_CONNECT_RATE = "2/m"
