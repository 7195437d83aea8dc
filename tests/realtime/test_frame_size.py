"""A frame larger than a page ever sends (MAX_BYTES) is refused by uvicorn itself: it closes the
socket (1009, "message too big") on the frame's header, without reading the payload it
announces. By default uvicorn reads up to 16 MiB into memory before the app's check sees it."""

from __future__ import annotations

import os
import re
import shutil
import struct

import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from inbox.realtime.messages import MAX_BYTES

from .server import ROOT, Site, manage

TOO_BIG = 1009


@pytest.fixture
def site(tmp_path_factory, tmp_path):
    path = tmp_path_factory.mktemp("frame-size") / "migrated.sqlite3"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{path}",
    }
    environment.pop("TEST_DB_NAME", None)
    manage(environment, "migrate", "--noinput", "-v", "0")
    shutil.copy(path, tmp_path / "site.sqlite3")
    site = Site(tmp_path)
    yield site
    site.stop()


def frame_header(length: int) -> bytes:
    """A client's (masked) text frame header announcing `length` bytes of payload."""
    return bytes([0x81, 0x80 | 127]) + struct.pack("!Q", length) + os.urandom(4)


def test_a_frame_announcing_10_mb_is_refused_before_its_payload_is_read(site):
    cookie = site.start()
    headers = {"Cookie": f"sessionid={cookie}", "Origin": site.origin}
    with connect(site.socket_url, additional_headers=headers, open_timeout=10) as socket:
        # The header alone, and 1 KiB of the 10 MB it announces: the server must answer now.
        socket.socket.sendall(frame_header(10 * 1024 * 1024) + bytes(1024))
        with pytest.raises(ConnectionClosedError) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == TOO_BIG


@pytest.mark.parametrize(
    "path",
    [
        "scripts/serve.sh",
        "bench/run.sh",
        "bench/sockets.py",
        "tests/e2e/asgi_server.py",
        "tests/realtime/server.py",
    ],
)
def test_every_uvicorn_the_site_starts_bounds_frames_to_max_bytes(path):
    """As the served site does: the same bound where the site is started for a benchmark or a test."""
    text = (ROOT / path).read_text()
    # What follows each --ws-max-size (a comment may come between): a number or MAX_BYTES.
    bounds = [
        re.search(r"\d+|MAX_BYTES", text[at.end() :]).group() for at in re.finditer("--ws-max-size", text)
    ]
    assert bounds, f"{path} starts uvicorn without --ws-max-size"
    assert set(bounds) <= {str(MAX_BYTES), "MAX_BYTES"}, bounds
