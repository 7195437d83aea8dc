"""Socket opens are counted per client address (INBOX_REALTIME_CONNECT_RATE, through
django-ratelimit and the site's cache, as the anonymous endpoints are): past the rate the
handshake is refused before the socket opens (an HTTP 429 with Retry-After where the server
supports ASGI's websocket.http.response, else a close before accept, code 4429), and nothing of
the session is read."""

from __future__ import annotations

import itertools
import os

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from inbox.realtime import throttle

from .conftest import communicator, login_cookie, run
from .server import Site, manage

pytestmark = pytest.mark.django_db(transaction=True)

_addresses = itertools.count(1)


@pytest.fixture
def address():
    """An address of its own per test: the counters live in the shared cache for a minute."""
    return f"198.51.100.{next(_addresses)}"


@pytest.fixture(autouse=True)
def rate(settings):
    settings.INBOX_REALTIME_CONNECT_RATE = "3/m"


def opened(cookie: str, address: str, *, extensions=None) -> dict:
    """The first thing the server answers a socket opened from `address`."""

    async def scenario():
        comm = communicator(cookie)
        comm.scope["client"] = (address, 50000)
        if extensions is not None:
            comm.scope["extensions"] = extensions
        await comm.send_input({"type": "websocket.connect"})
        answer = await comm.receive_output(2)
        if answer["type"] == "websocket.http.response.start":
            answer["body"] = (await comm.receive_output(2))["body"]
        elif answer["type"] == "websocket.accept":
            await comm.disconnect()
        return answer

    return run(scenario)


def test_opens_past_the_rate_are_refused_before_the_socket_opens(users, address):
    cookie = login_cookie(users["alice"])
    assert [opened(cookie, address)["type"] for _ in range(3)] == ["websocket.accept"] * 3
    refused = opened(cookie, address)
    assert (refused["type"], refused["code"]) == ("websocket.close", 4429)
    assert opened(cookie, "198.51.100.250")["type"] == "websocket.accept"  # another address


def test_a_server_that_can_answer_in_http_says_429_and_when_to_retry(users, address):
    cookie = login_cookie(users["alice"])
    extensions = {"websocket.http.response": {}}
    for _ in range(3):
        assert opened(cookie, address, extensions=extensions)["type"] == "websocket.accept"
    refused = opened(cookie, address, extensions=extensions)
    assert refused["type"] == "websocket.http.response.start" and refused["status"] == 429
    retry_after = dict(refused["headers"])[b"retry-after"]
    assert 1 <= int(retry_after) <= 60
    assert b"Too many" in refused["body"]


def test_anonymous_opens_count_too(users, address):
    for _ in range(3):
        opened("", address)
    assert opened("", address)["code"] == 4429


def test_no_rate_no_limit(users, address, settings):
    settings.INBOX_REALTIME_CONNECT_RATE = None
    cookie = login_cookie(users["alice"])
    assert all(opened(cookie, address)["type"] == "websocket.accept" for _ in range(6))


def test_a_cache_that_fails_lets_sockets_open_and_is_logged_once(
    users, address, settings, caplog, monkeypatch
):
    monkeypatch.setattr(throttle, "_failing", False)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "no_such_table"}
    }
    cookie = login_cookie(users["alice"])
    assert all(opened(cookie, address)["type"] == "websocket.accept" for _ in range(5))
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "Socket opens are not counted: the cache failed"
    ]


def test_uvicorn_answers_the_open_past_the_rate_with_429(tmp_path):
    """A real server, a real client from 127.0.0.1: the third open of the minute gets an HTTP 429."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.realtime.throttled_settings"}
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    environment.pop("TEST_DB_NAME", None)
    manage(environment, "migrate", "--noinput", "-v", "0")
    manage(environment, "createcachetable")
    site = Site(tmp_path, DJANGO_SETTINGS_MODULE="tests.realtime.throttled_settings")
    try:
        cookie = site.start()
        headers = {"Cookie": f"sessionid={cookie}", "Origin": site.origin}
        for _ in range(2):
            with connect(site.socket_url, additional_headers=headers, open_timeout=10) as socket:
                socket.send('{"type": "hello", "tab": "t1", "page": "dashboard", "top": true}')
                assert socket.recv(timeout=10)  # open: the catch-up arrives
        with pytest.raises(InvalidStatus) as refused:
            connect(site.socket_url, additional_headers=headers, open_timeout=10)
    finally:
        site.stop()
    assert refused.value.response.status_code == 429
    assert 1 <= int(refused.value.response.headers["Retry-After"]) <= 60
