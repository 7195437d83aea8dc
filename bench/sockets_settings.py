"""The site's settings for the socket benchmark (bench/sockets.py): bench.settings on its own SQLite
file (results/sockets/sockets.sqlite3, or BENCH_DB), and with REDIS_URL a channel-layer prefix of
its own, so the server and the sender never meet another process's events on a shared Redis
(pub/sub channels are shared by every Redis database number)."""

from __future__ import annotations

import os

from bench.sockets_common import SOCKETS_RESULTS

os.environ.setdefault("BENCH_DB", str(SOCKETS_RESULTS / "sockets.sqlite3"))

from bench.settings import *  # noqa: E402, F403
from bench.settings import CHANNEL_LAYERS  # noqa: E402

if CHANNEL_LAYERS["default"]["BACKEND"] != "channels.layers.InMemoryChannelLayer":
    CHANNEL_LAYERS = {
        "default": {
            **CHANNEL_LAYERS["default"],
            "CONFIG": {**CHANNEL_LAYERS["default"]["CONFIG"], "prefix": "inbox-bench-sockets"},
        }
    }

# The benchmark opens its thousands of sockets from 127.0.0.1: no per-address limit on opens.
INBOX_REALTIME_CONNECT_RATE = None
