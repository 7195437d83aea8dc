"""The test settings with a long send timeout, for a real server (tests/realtime/
test_stalled_sockets.py): a stalled socket's timeout cannot run out while the test fills it."""

from __future__ import annotations

from tests.settings import *  # noqa: F403

INBOX_REALTIME_SEND_SECONDS = 30
