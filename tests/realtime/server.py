"""A real server in another process: uvicorn serving config.asgi as `make run` does, on a
migrated database file, for the cross-process tests (a command in a third process
sends; the socket, a real WebSocket client, receives)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from inbox.realtime.messages import MAX_BYTES

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
UVICORN = str(Path(sys.executable).with_name("uvicorn"))
# As scripts/serve.sh: uvicorn refuses frames larger than a page sends (test_frame_size.py).
FRAME_BOUND = ("--ws-max-size", str(MAX_BYTES))
SHELL_LOGIN = """
from django.contrib.auth.models import User
from django.test import Client
user = User.objects.create_user("alice", password="pw-alice")
client = Client()
client.force_login(user)
print(client.cookies["sessionid"].value)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


class Site:
    """A database and a uvicorn server on it; `manage()` runs commands against the same database."""

    def __init__(self, tmp_path: Path, **environment: str):
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
            **environment,
        }
        self.env.pop("TEST_DB_NAME", None)
        self.port = free_port()
        self.process = None
        self.log_path = tmp_path / "server.log"

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def start(self) -> str:
        """Make alice on the (migrated) database, serve; alice's session cookie."""
        cookie = self.manage("shell", "-c", SHELL_LOGIN).strip().splitlines()[-1]
        with self.log_path.open("wb") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [
                    UVICORN,
                    "config.asgi:application",
                    "--port",
                    str(self.port),
                    "--no-access-log",
                    *FRAME_BOUND,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return cookie
            except OSError:
                time.sleep(0.1)
        raise AssertionError("uvicorn did not start within 30 s")

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/inbox/ws/"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        """What the server wrote to its stderr so far (its log)."""
        return self.log_path.read_text(errors="replace")
