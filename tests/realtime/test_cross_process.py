"""A notification sent from another process (the command line) reaches an open socket served by
uvicorn in a third process: through the database by default, through Redis with REDIS_URL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from http.cookies import SimpleCookie
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from websockets.sync.client import connect

from .server import ROOT, Site, manage

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_or_skip() -> None:
    if subprocess.run([os.sys.executable, "scripts/reachable.py", REDIS_URL], cwd=ROOT).returncode:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}, and CI must run the Redis transport test.")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: the layer transport is tested only with it.")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A migrated database file, made once: each test serves a copy."""
    path = tmp_path_factory.mktemp("realtime-site") / "migrated.sqlite3"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{path}",
    }
    environment.pop("TEST_DB_NAME", None)
    manage(environment, "migrate", "--noinput", "-v", "0")
    return path


@pytest.fixture(params=["database", "redis"])
def site(request, tmp_path, migrated):
    environment = {}
    if request.param == "redis":
        redis_or_skip()
        environment["REDIS_URL"] = REDIS_URL
    shutil.copy(migrated, tmp_path / "site.sqlite3")
    site = Site(tmp_path, **environment)
    yield site
    site.stop()


def test_a_send_from_the_command_line_reaches_the_socket(site):
    cookie = site.start()
    headers = {"Cookie": f"sessionid={cookie}", "Origin": site.origin}
    with connect(site.socket_url, additional_headers=headers, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "hello", "tab": "t1", "page": "dashboard", "top": True}))
        frame = json.loads(socket.recv(timeout=10))  # the catch-up: the hub listens
        assert "Notifications, 0 unread" in frame.pop("content") and frame == {"badge": 0, "read": []}
        site.manage("send_notification", "Sent from the command line", "--user", "alice")
        frame = json.loads(socket.recv(timeout=5))  # how soon: the sockets benchmark (bench/)
        html = frame.pop("content")
        assert "Sent from the command line" in html and "Notifications, 1 unread" in html
        assert frame == {"badge": 1, "read": []}  # the same frame: one per event

        # "Mark all as read" in another tab: a request served by uvicorn (through a2wsgi) publishes.
        mark_all_read(site, cookie, tab="other-tab")
        frame = json.loads(socket.recv(timeout=5))
        assert "Notifications, 0 unread" in frame.pop("content")
        assert frame == {"badge": 0, "read": [], "all_read": True}
        with pytest.raises(TimeoutError):
            socket.recv(timeout=0.3)  # nothing more: one frame per event


def mark_all_read(site: Site, session: str, tab: str) -> None:
    """POST /inbox/read-all/ as a browser would: the CSRF cookie from a page, then the form."""
    cookies = f"sessionid={session}"
    with urlopen(Request(f"{site.origin}/inbox/", headers={"Cookie": cookies}), timeout=10) as page:
        csrf = SimpleCookie(page.headers["Set-Cookie"])["csrftoken"].value
    request = Request(
        f"{site.origin}/inbox/read-all/",
        data=urlencode({"place": "all", "csrfmiddlewaretoken": csrf}).encode(),
        headers={"Cookie": f"{cookies}; csrftoken={csrf}", "Origin": site.origin, "X-Inbox-Tab": tab},
    )
    with urlopen(request, timeout=10) as response:
        assert response.status == 200  # the redirect back, followed
