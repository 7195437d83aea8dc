"""Socket opens are counted per client address (INBOX_REALTIME_CONNECT_RATE, through
django-ratelimit and the site's cache, as the anonymous endpoints are): past the rate the
handshake is refused before the socket opens (an HTTP 429 with Retry-After where the server
supports ASGI's websocket.http.response, else a close before accept, code 4429), and nothing of
the session is read."""

from __future__ import annotations

import itertools

import pytest

from inbox.realtime import throttle

from .conftest import communicator, login_cookie, run

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
