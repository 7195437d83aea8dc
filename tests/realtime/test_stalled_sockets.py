"""Clients that stop reading, served by a real uvicorn: a broadcast starts every socket's send
at once and waits for those not taken once, in the background, so a socket that takes no
frames holds up no other socket; it is closed (1013) when the one timeout runs out."""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import ExitStack

import pytest
from websockets.client import ClientProtocol
from websockets.http11 import Response
from websockets.sync.client import connect
from websockets.typing import Origin
from websockets.uri import parse_uri

from .server import Site, manage

STALLED = 3
FILL = 200  # notifications: enough to fill a stalled client's buffers (about 250 KB)
MAKE_USERS = """
from django.contrib.auth.models import User
from django.test import Client
for i in range({count}):
    client = Client()
    client.force_login(User.objects.create_user(f"stalled-{{i}}"))
    print(client.cookies["sessionid"].value)
"""
# Every user, stalled ones first (their rows come first in the hub's broadcast), FILL notifications
# of incompressible text (the clients refuse compression anyway), then the last one.
SEND = """
import secrets
from django.contrib.auth.models import User
from inbox.api import notify
everyone = User.objects.order_by("pk")
for i in range({fill}):
    notify(everyone, f"Fill {{i}} " + secrets.token_urlsafe(1400))
notify(everyone, "The last one")
"""


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.sqlite3"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{path}",
    }
    environment.pop("TEST_DB_NAME", None)
    manage(environment, "migrate", "--noinput", "-v", "0")
    site = Site(tmp_path, LOG_LEVEL="INFO", DJANGO_SETTINGS_MODULE="tests.realtime.send_timeout_settings")
    yield site
    site.stop()


HELLO = json.dumps({"type": "hello", "tab": "t", "page": "dashboard", "top": True})


class StalledClient:
    """A client that says hello, reads its catch-up and then reads nothing more, as a tab whose
    machine went to sleep: websockets' sans-I/O protocol on a plain socket with a small receive
    buffer (a client library would go on reading into its own queue)."""

    def __init__(self, site: Site, cookie: str):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", site.port))
        self.protocol = ClientProtocol(parse_uri(site.socket_url), origin=Origin(site.origin), max_size=None)
        request = self.protocol.connect()
        request.headers["Cookie"] = f"sessionid={cookie}"
        self.protocol.send_request(request)
        self.flush()
        while not any(isinstance(event, Response) for event in self.read()):
            pass
        assert self.protocol.handshake_exc is None, self.protocol.handshake_exc
        # With the dropdown open each frame carries the dropdown's items: big frames, full sooner.
        self.protocol.send_text(json.dumps({**json.loads(HELLO), "dropdown": True}).encode())
        self.flush()
        while not any(b"inbox-badge" in getattr(event, "data", b"") for event in self.read()):
            pass

    def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def read(self, timeout: float = 10) -> list:
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        return self.protocol.events_received()

    def close_code(self) -> int | None:
        """Read on, answering as a client does, until the server closes: its close code."""
        while self.protocol.close_code is None:
            self.read()
            self.flush()
        self.sock.close()
        return self.protocol.close_code


def healthy_client(stack: ExitStack, site: Site, cookie: str):
    headers = {"Cookie": f"sessionid={cookie}", "Origin": site.origin}
    websocket = stack.enter_context(connect(site.socket_url, additional_headers=headers, open_timeout=10))
    websocket.send(HELLO)
    assert "inbox-badge" in json.loads(websocket.recv(timeout=10))["content"]  # the catch-up
    return websocket


def closed_for_taking_no_frames(site: Site) -> int:
    """Sockets closed when the send timeout ran out."""
    return site.log().count("it takes no frames")


def closed_stalled(site: Site) -> int:
    """Sockets closed as stalled: the timeout, or too many frames queued behind one not taken."""
    return closed_for_taking_no_frames(site) + site.log().count("it is too far behind")


def test_stalled_sockets_ahead_of_a_healthy_one_hold_it_up_not_at_all(site):
    stalled_cookies = site.manage("shell", "-c", MAKE_USERS.format(count=STALLED)).split()[-STALLED:]
    cookie = site.start()
    with ExitStack() as stack:
        stalled = [StalledClient(site, c) for c in stalled_cookies]
        healthy = healthy_client(stack, site, cookie)
        scenario(site, stalled, healthy)


def scenario(site: Site, stalled: list, healthy) -> None:

    site.manage("shell", "-c", SEND.format(fill=FILL))
    frames = []
    while not frames or "The last one" not in frames[-1]:
        frames.append(json.loads(healthy.recv(timeout=60))["content"])
    # Every frame, in order, and none waited for a stalled socket's timeout: the old broadcast
    # waited its send timeout (5 s then) for each stalled socket ahead of this one and closed it
    # before going on. Here the timeout is 30 s: the healthy socket does not wait for it.
    assert [f"Fill {i} " in frame for i, frame in enumerate(frames[:FILL])] == [True] * FILL
    assert len(frames) == FILL + 1
    assert closed_for_taking_no_frames(site) == 0, site.log()

    # They did stall, and the one timeout closes each of them in the background, or sooner the
    # frames piling up behind (1013: the page reconnects and catches up).
    for _ in range(600):
        if closed_stalled(site) == STALLED:
            break
        time.sleep(0.1)
    assert closed_stalled(site) == STALLED, site.log()
    assert [client.close_code() for client in stalled] == [1013] * STALLED
