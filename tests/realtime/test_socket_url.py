"""Where a page connects its socket: the socket's path on the page's own origin (a proxy routes
it), or with INBOX_SOCKET_PORT that port on the host the page came from (make run)."""

from __future__ import annotations

import pytest

URL = 'hx-ws:connect="{}"'


def test_the_socket_is_on_the_pages_own_origin_by_default(alice_client):
    assert URL.format("/inbox/ws/") in alice_client.get("/inbox/").content.decode()


@pytest.mark.parametrize(
    ("host", "secure", "expected"),
    [
        ("localhost:8000", False, "ws://localhost:8001/inbox/ws/"),
        ("127.0.0.1:8000", False, "ws://127.0.0.1:8001/inbox/ws/"),
        ("[::1]:8000", False, "ws://[::1]:8001/inbox/ws/"),
        ("localhost", True, "wss://localhost:8001/inbox/ws/"),
    ],
)
def test_with_a_socket_port_the_socket_is_on_the_pages_host(settings, alice_client, host, secure, expected):
    settings.INBOX_SOCKET_PORT = 8001
    page = alice_client.get("/inbox/", headers={"host": host}, secure=secure).content.decode()
    assert URL.format(expected) in page


def test_each_host_gets_its_own_socket_url_from_the_cached_bell(settings, alice_client):
    settings.INBOX_SOCKET_PORT = 8001
    for host in ["localhost:8000", "127.0.0.1:8000", "localhost:8000"]:
        page = alice_client.get("/inbox/", headers={"host": host}).content.decode()
        assert URL.format(f"ws://{host.split(':')[0]}:8001/inbox/ws/") in page


def test_a_host_outside_allowed_hosts_gets_a_400_not_a_socket(settings, alice_client):
    settings.INBOX_SOCKET_PORT = 8001
    assert alice_client.get("/inbox/", headers={"host": "evil.example:8000"}).status_code == 400


def test_without_the_realtime_channel_there_is_no_socket(settings, leave_out, alice_client):
    settings.INBOX_SOCKET_PORT = 8001
    leave_out("inbox.realtime")
    assert "hx-ws:connect" not in alice_client.get("/inbox/").content.decode()
