from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
LIMIT = 10  # AXES_FAILURE_LIMIT


def log_in(client, username, password, address="203.0.113.1", url=LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_for_one_username_from_many_addresses_are_throttled(client, alice):
    for i in range(LIMIT - 1):
        assert log_in(client, "alice", "wrong", f"198.51.100.{i}").status_code == 200
    locked = log_in(client, "alice", "wrong", "198.51.100.200")
    assert locked.status_code == 429
    # Now even the right password is refused for that username, from anywhere, with a page
    # that says why and when to try again.
    response = log_in(client, "alice", "pw-alice", "192.0.2.7")
    html = response.content.decode()
    assert response.status_code == 429 and response["Retry-After"] == "900"
    assert "Too many failed logins" in html and "Try again in 15 minutes." in html
    assert "<html" in html and "_auth_user_id" not in client.session


def test_wrong_passwords_for_many_usernames_from_one_address_are_throttled(client, alice):
    for i in range(LIMIT - 1):
        assert log_in(client, f"guess{i}", "wrong").status_code == 200
    assert log_in(client, "guess-last", "wrong").status_code == 429
    # The address is locked out, even for a real account with its right password...
    assert log_in(client, "alice", "pw-alice").status_code == 429
    # ...but that account still works from elsewhere.
    assert log_in(client, "alice", "pw-alice", "192.0.2.7").status_code == 302


def test_a_right_password_before_the_limit_logs_in_and_starts_the_count_again(client, alice):
    for _ in range(LIMIT - 1):
        log_in(client, "alice", "wrong")
    response = log_in(client, "alice", "pw-alice")
    assert response.status_code == 302 and response["Location"] == reverse("inbox:index")
    client.logout()
    for _ in range(LIMIT - 1):
        assert log_in(client, "alice", "wrong").status_code == 200


def test_the_admin_login_is_throttled_too(client, db):
    User.objects.create_superuser("root", password="pw-root")
    for i in range(LIMIT - 1):
        assert log_in(client, "root", "wrong", f"198.51.100.{i}", url=ADMIN_LOGIN).status_code == 200
    assert log_in(client, "root", "wrong", url=ADMIN_LOGIN).status_code == 429
    assert log_in(client, "root", "pw-root", url=ADMIN_LOGIN).status_code == 429
    # A lockout on the admin's form holds on the site's form too: one count per username.
    assert log_in(client, "root", "pw-root", "192.0.2.9").status_code == 429


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


def test_a_failed_login_with_huge_headers_is_recorded_not_a_500(client, alice):
    response = client.post(
        LOGIN,
        {"username": "alice", "password": "wrong"},
        REMOTE_ADDR="203.0.113.1",
        HTTP_USER_AGENT="x" * 5000,
        HTTP_ACCEPT="text/html," * 500,
    )
    assert response.status_code == 200 and "didn't match" in response.content.decode()


@pytest.mark.parametrize(("url", "refusal"), [(LOGIN, "didn't match"), (ADMIN_LOGIN, "correct username")])
def test_a_failed_login_with_a_huge_username_is_recorded_not_a_500(client, alice, url, refusal):
    """django-axes records the username in a 255-character column, which PostgreSQL enforces."""
    for _ in range(LIMIT - 1):
        response = log_in(client, "x" * 5000, "wrong", url=url)
        assert response.status_code == 200 and refusal in response.content.decode()
    # Still counted: the next attempt with that username is the one past the limit.
    assert log_in(client, "x" * 5000, "wrong", "198.51.100.9", url=url).status_code == 429


def behind_proxy(client, url, data, forwarded_for, **extra):
    """A request as one reverse proxy on this machine passes it on."""
    return client.post(url, data, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for, **extra)


def test_behind_a_proxy_the_lockout_counts_each_client_not_the_proxy(client, alice, settings):
    settings.PROXY_COUNT = 1
    for i in range(LIMIT - 1):
        assert (
            behind_proxy(client, LOGIN, {"username": f"guess{i}", "password": "x"}, "203.0.113.5").status_code
            == 200
        )
    assert (
        behind_proxy(client, LOGIN, {"username": "last", "password": "x"}, "203.0.113.5").status_code == 429
    )
    # A made-up X-Forwarded-For from that client still ends with the address the proxy appended.
    spoofed = behind_proxy(
        client, LOGIN, {"username": "alice", "password": "pw-alice"}, "192.0.2.1, 203.0.113.5"
    )
    assert spoofed.status_code == 429
    # Another client, through the same proxy, is not locked out.
    assert (
        behind_proxy(client, LOGIN, {"username": "alice", "password": "pw-alice"}, "198.51.100.8").status_code
        == 302
    )


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
