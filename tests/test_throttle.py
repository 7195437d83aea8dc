"""The anonymous rate limit and the client address (login throttling: test_login_throttle.py)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse


@pytest.mark.parametrize("name", ["inbox:push_read", "inbox:push_renew"])
def test_the_endpoints_without_login_are_rate_limited_per_address(client, db, settings, name):
    settings.INBOX_ANONYMOUS_RATE = "3/m"
    url = reverse(name)

    def post(address):
        return client.post(url, "{}", content_type="application/json", REMOTE_ADDR=address)

    for _ in range(3):
        assert post("198.51.100.1").status_code in (400, 403)  # refused on its merits
    limited = post("198.51.100.1")
    assert limited.status_code == 429
    assert json.loads(limited.content)["error"].startswith("Too many requests from this address")
    assert 0 < int(limited["Retry-After"]) <= 60
    assert post("198.51.100.2").status_code in (400, 403)  # another address is not affected


def behind_proxy(client, url, data, forwarded_for, **extra):
    """A request as one reverse proxy on this machine passes it on."""
    return client.post(url, data, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for, **extra)


def test_behind_a_proxy_the_rate_limit_counts_each_client(client, db, settings):
    settings.PROXY_COUNT = 1
    settings.INBOX_ANONYMOUS_RATE = "2/m"
    url = reverse("inbox:push_read")

    def post(forwarded_for):
        return behind_proxy(client, url, "{}", forwarded_for, content_type="application/json")

    for _ in range(2):
        assert post("203.0.113.5").status_code in (400, 403)
    assert post("203.0.113.5").status_code == 429
    assert post("10.9.9.9, 203.0.113.5").status_code == 429  # a made-up entry on the left changes nothing
    assert post("198.51.100.8").status_code in (400, 403)


@pytest.mark.parametrize(
    ("count", "forwarded_for", "expected"),
    [
        (0, "203.0.113.5", "127.0.0.1"),  # no proxy configured: the header is not believed
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "192.0.2.1, 203.0.113.5", "203.0.113.5"),
        (2, "192.0.2.1, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "127.0.0.1"),  # fewer entries than proxies: not through them all
        (1, "", "127.0.0.1"),
        (1, "not an address", "127.0.0.1"),
        (1, "1.2.3.4\x00", "127.0.0.1"),
        (1, "²", "127.0.0.1"),
        (1, "2001:db8::7", "2001:db8::7"),
        (1, "9" * 100_000 + ", 203.0.113.5", "203.0.113.5"),
    ],
)
def test_the_client_address(rf, settings, count, forwarded_for, expected):
    from config.client_ip import client_ip

    settings.PROXY_COUNT = count
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_ip(request) == expected
