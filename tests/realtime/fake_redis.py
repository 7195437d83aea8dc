"""Redis that is not there: a closed port (connections refused at once) and a hung server (a
local TCP server that accepts every connection and never answers), for the tests of real time
when Redis is down. And the real Redis, for the recovery (skipped when absent, except in CI)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"


def closed_port_url() -> str:
    """A Redis URL on a port nothing listens on (bound then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"


class HungRedis:
    """Accepts connections and reads what it is sent, never answering; `connections` counts them."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.server.getsockname()[1]}/0"
        self.connections = 0
        self.accepted = threading.Event()
        self.stopping = threading.Event()
        self.clients: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.server.settimeout(0.05)
        while not self.stopping.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            self.clients.append(client)  # kept open, never read from nor written to
            self.connections += 1
            self.accepted.set()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.server.close()
        for client in self.clients:
            client.close()


def layer_settings(url: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": prefix},
        }
    }


def redis_or_skip() -> None:
    if subprocess.run([sys.executable, "scripts/reachable.py", REDIS_URL]).returncode:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}, and CI must run the Redis transport tests.")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
