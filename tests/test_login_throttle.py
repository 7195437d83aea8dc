"""Login throttling (django-axes, configured in config/settings.py and config/lockout.py),
through real logins at the site's form and the admin's.

The policy: 10 failures for one username from one address lock that pair; 30 failures from one
address, whatever the usernames, lock the address for every username that has never logged in
from it. A success resets the failures of its own pair and nothing else.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
LIMIT = 10  # AXES_FAILURE_LIMIT: per (username, address)
ADDRESS_LIMIT = 30  # LOGIN_ADDRESS_FAILURE_LIMIT: per address
HERE, ELSEWHERE = "203.0.113.1", "192.0.2.7"


def log_in(client, username, password, address=HERE, url=LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client, username, password, address=HERE, url=LOGIN):
    """A right password that gets in (and out again, so the next attempt starts anonymous)."""
    response = log_in(client, username, password, address, url)
    client.logout()
    return response.status_code == 302


@pytest.fixture
def mallory(db):
    """The attacker's own account."""
    return User.objects.create_user("mallory", password="pw-mallory")


@pytest.fixture
def carol(db):
    return User.objects.create_user("carol", password="pw-carol")


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", password="pw-root")


def test_wrong_passwords_for_one_username_from_one_address_are_throttled(client, alice):
    for _ in range(LIMIT - 1):
        assert log_in(client, "alice", "wrong").status_code == 200
    assert log_in(client, "alice", "wrong").status_code == 429
    # Now even the right password is refused for that username from that address, with a page
    # that says why and when to try again.
    response = log_in(client, "alice", "pw-alice")
    html = response.content.decode()
    assert response.status_code == 429 and response["Retry-After"] == "900"
    assert "Too many failed logins" in html and "Try again in 15 minutes." in html
    assert "<html" in html and "_auth_user_id" not in client.session


def test_logging_in_to_an_owned_account_does_not_reset_the_count_for_another(client, alice, mallory):
    """The bypass: a success reset every failure of its address, so an attacker who logged in
    to his own account every 9 guesses guessed at alice's password for ever."""
    for _ in range(3):
        for _ in range(LIMIT - 1):
            if log_in(client, "alice", "wrong").status_code == 429:
                return  # throttled within the limit, as it should be
        assert logged_in(client, "mallory", "pw-mallory")
    pytest.fail("27 wrong passwords for alice from one address and never a 429")


def test_logging_in_to_an_owned_account_does_not_reset_the_address_count(client, mallory):
    """The same bypass against many usernames: the address's count is not reset either."""
    guesses = 0
    while guesses < 2 * ADDRESS_LIMIT:
        for _ in range(LIMIT - 1):
            guesses += 1
            if log_in(client, f"victim{guesses}", "wrong").status_code == 429:
                assert guesses == ADDRESS_LIMIT  # the one that reaches the limit is refused
                return
        assert logged_in(client, "mallory", "pw-mallory")
    pytest.fail(f"{guesses} wrong passwords from one address and never a 429")


def test_a_success_elsewhere_does_not_reset_the_count_here(client, alice):
    for _ in range(LIMIT - 1):
        log_in(client, "alice", "wrong")
    assert logged_in(client, "alice", "pw-alice", ELSEWHERE)
    assert log_in(client, "alice", "wrong").status_code == 429


def test_a_right_password_before_the_limit_logs_in_and_starts_the_count_again(client, alice):
    for _ in range(LIMIT - 1):
        log_in(client, "alice", "wrong")
    response = log_in(client, "alice", "pw-alice")
    assert response.status_code == 302 and response["Location"] == reverse("inbox:index")
    client.logout()
    for _ in range(LIMIT - 1):
        assert log_in(client, "alice", "wrong").status_code == 200


def test_failures_from_one_address_do_not_lock_the_username_elsewhere(client, root):
    """The denial of service: 10 wrong passwords for the admin's username, from anywhere,
    locked the admin out of every address for 15 minutes."""
    for _ in range(LIMIT):
        log_in(client, "root", "wrong", url=ADMIN_LOGIN)
    assert log_in(client, "root", "pw-root", url=ADMIN_LOGIN).status_code == 429
    assert logged_in(client, "root", "pw-root", ELSEWHERE, url=ADMIN_LOGIN)
    assert logged_in(client, "root", "pw-root", ELSEWHERE)


def test_a_locked_username_does_not_lock_others_at_its_address(client, alice, bob):
    """The other denial of service: bob's right password got a 429 because alice's failures
    (someone's, from behind the same NAT) had locked the address."""
    for _ in range(LIMIT):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", "pw-alice").status_code == 429
    assert logged_in(client, "bob", "pw-bob")


def test_many_usernames_from_one_address_lock_it_for_those_not_known_there(client, bob, carol):
    """Rotating usernames guesses no further than the address limit. Past it, a username that
    has logged in from the address before still does; any other waits, or goes elsewhere."""
    assert logged_in(client, "bob", "pw-bob")
    for i in range(ADDRESS_LIMIT - 1):
        assert log_in(client, f"guess{i}", "wrong").status_code == 200
    assert log_in(client, "guess-last", "wrong").status_code == 429
    assert log_in(client, "carol", "pw-carol").status_code == 429
    assert logged_in(client, "bob", "pw-bob")
    assert logged_in(client, "carol", "pw-carol", ELSEWHERE)
    # bob's success reset his own failures only: the address is still locked for the rest.
    assert log_in(client, "guess-again", "wrong").status_code == 429


def test_a_known_username_past_the_address_limit_still_has_its_own_limit(client, bob):
    assert logged_in(client, "bob", "pw-bob")
    for i in range(ADDRESS_LIMIT):
        log_in(client, f"guess{i}", "wrong")
    for _ in range(LIMIT - 1):
        assert log_in(client, "bob", "wrong").status_code == 200
    assert log_in(client, "bob", "wrong").status_code == 429
    assert log_in(client, "bob", "pw-bob").status_code == 429


def test_the_admin_login_is_throttled_too_and_counts_with_the_sites(client, root):
    for _ in range(LIMIT - 1):
        assert log_in(client, "root", "wrong", url=ADMIN_LOGIN).status_code == 200
    assert log_in(client, "root", "wrong", url=ADMIN_LOGIN).status_code == 429
    assert log_in(client, "root", "pw-root", url=ADMIN_LOGIN).status_code == 429
    # One count per (username, address), whichever form it was tried at.
    assert log_in(client, "root", "pw-root").status_code == 429


def test_a_changing_user_agent_does_not_start_a_new_count(client, alice):
    for i in range(LIMIT - 1):
        assert (
            client.post(
                LOGIN, {"username": "alice", "password": "wrong"}, REMOTE_ADDR=HERE, HTTP_USER_AGENT=f"ua{i}"
            ).status_code
            == 200
        )
    assert log_in(client, "alice", "wrong").status_code == 429


def test_the_addresses_of_one_ipv6_network_count_as_one(client, alice):
    """An IPv6 client is usually given a /64: one address each guess must not be a fresh count."""
    for i in range(1, LIMIT):
        assert log_in(client, "alice", "wrong", f"2001:db8:1:2::{i:x}").status_code == 200
    assert log_in(client, "alice", "wrong", "2001:db8:1:2:ffff::1").status_code == 429
    assert logged_in(client, "alice", "pw-alice", "2001:db8:1:3::1")  # the next /64 is another client


def test_a_failed_login_with_huge_headers_is_recorded_not_a_500(client, alice):
    response = client.post(
        LOGIN,
        {"username": "alice", "password": "wrong"},
        REMOTE_ADDR=HERE,
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
    assert log_in(client, "x" * 5000, "wrong", url=url).status_code == 429


def behind_proxy(client, data, forwarded_for):
    """A login as one reverse proxy on this machine passes it on."""
    return client.post(LOGIN, data, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)


def test_behind_a_proxy_the_lockout_counts_each_client_not_the_proxy(client, alice, settings):
    settings.PROXY_COUNT = 1
    wrong = {"username": "alice", "password": "x"}
    right = {"username": "alice", "password": "pw-alice"}
    for _ in range(LIMIT - 1):
        assert behind_proxy(client, wrong, "203.0.113.5").status_code == 200
    assert behind_proxy(client, wrong, "203.0.113.5").status_code == 429
    # A made-up X-Forwarded-For from that client still ends with the address the proxy appended.
    assert behind_proxy(client, right, "192.0.2.1, 203.0.113.5").status_code == 429
    # Another client, through the same proxy, is not locked out.
    assert behind_proxy(client, right, "198.51.100.8").status_code == 302


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
        ("2001:db8:1:2::", "2001:db8:1:2::"),
        ("::ffff:203.0.113.5", "203.0.113.5"),  # an IPv4 client of a dual-stack server
        ("", None),  # no address (a Unix socket): one count, as axes would store it anyway
        ("unix:/run/site.sock", None),
    ],
)
def test_the_address_a_lockout_counts(rf, remote, expected):
    from config.lockout import lockout_address

    assert lockout_address(rf.get("/", REMOTE_ADDR=remote)) == expected
