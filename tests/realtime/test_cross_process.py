"""A notification sent from another process (the command line) reaches an open socket served by
uvicorn in a third process: through the database by default, through Redis with REDIS_URL."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from websockets.sync.client import connect

from .server import ROOT, Site, manage

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_or_skip() -> None:
    if subprocess.run([os.sys.executable, "scripts/reachable.py", REDIS_URL], cwd=ROOT).returncode:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}, and CI must run the Redis transport test.")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: the layer transport is tested only with it.")


@pytest.fixture(params=["database", "redis"])
def site(request, tmp_path):
    environment = {}
    if request.param == "redis":
        redis_or_skip()
        environment["REDIS_URL"] = REDIS_URL
    site = Site(tmp_path, **environment)
    yield site
    site.stop()


def test_a_send_from_the_command_line_reaches_the_socket_within_a_second(site):
    cookie = site.start()
    headers = {"Cookie": f"sessionid={cookie}", "Origin": site.origin}
    with connect(site.socket_url, additional_headers=headers, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "hello", "tab": "t1", "page": "dashboard", "top": True}))
        assert "Notifications, 0 unread" in socket.recv(timeout=10)  # the catch-up: the hub listens
        assert json.loads(socket.recv(timeout=1)) == {"badge": 0, "read": []}
        site.manage("send_notification", "Sent from the command line", "--user", "alice")
        committed = time.monotonic()
        frame = socket.recv(timeout=5)
        arrived = time.monotonic()
        assert "Sent from the command line" in frame and "Notifications, 1 unread" in frame
        assert json.loads(socket.recv(timeout=1)) == {"badge": 1, "read": []}
    assert arrived - committed < 1.0, f"the frame took {arrived - committed:.2f} s after the command ended"


def test_the_server_refuses_a_socket_from_another_origin(tmp_path):
    site = Site(tmp_path)
    try:
        cookie = site.start()
        headers = {"Cookie": f"sessionid={cookie}", "Origin": "http://evil.example"}
        with pytest.raises(Exception, match="403"), connect(site.socket_url, additional_headers=headers):
            pass
    finally:
        site.stop()


def test_make_runs_setup_is_enough_for_a_manage_py_check(tmp_path):
    """config.asgi imports cleanly in a fresh process (what uvicorn loads first)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    manage(env, "check")
    result = subprocess.run(
        [os.sys.executable, "-c", "import config.asgi"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
