"""The site served as in production, by uvicorn running config.asgi.application (HTTP and
WebSockets on one origin), for the real-time browser tests. pytest-django's live_server is a WSGI
server and cannot speak WebSocket.

The server is a child process on the test database (a file on SQLite: see conftest), so it is
also a second process like `make run`'s: a notification sent by the test, or by a command run as
a subprocess, reaches it only through the database (or Redis), as in production. It can be
stopped and started again on the same port (the page then reconnects to the same URL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from inbox.realtime.messages import MAX_BYTES

REPOSITORY = Path(__file__).resolve().parents[2]
SETTINGS = "tests.e2e.asgi_settings"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The URL of the test database this process uses (pytest-django has set it up)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        user = quote(db["USER"] or "", safe="")
        password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
        return f"postgres://{user}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    raise RuntimeError(f"The ASGI test server does not know the database engine {db['ENGINE']}.")


def child_environment(**extra: str) -> dict[str, str]:
    """The environment of a child process (the server, a management command) on the test
    database, with the same secret key as this process."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `manage.py <args>` as a child process on the test database; fail if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPOSITORY,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


class AsgiServer:
    """uvicorn serving config.asgi:application on 127.0.0.1:<port> in a child process."""

    def __init__(self, log_path: Path, **environment: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.environment = environment
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--ws-max-size",  # as scripts/serve.sh
                str(MAX_BYTES),
            ],
            cwd=REPOSITORY,
            env=child_environment(**self.environment),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"The ASGI server exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The ASGI server did not start within {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 10) -> None:
        """Stop as a deployment does (SIGTERM: uvicorn closes its sockets and exits)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """The server's output so far (its last 4,000 characters)."""
        return self.log_path.read_text(errors="replace")[-4000:]
