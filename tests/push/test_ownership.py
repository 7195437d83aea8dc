"""Who a stored push subscription belongs to (issue 6, items 2, 3 and 14): it is never moved to
another user silently, a renewal proves possession of the old auth secret, the page can ask
whether this browser's subscription is the current user's, and logging out removes it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from webpush.models import PushInformation, SubscriptionInfo

from inbox.push import endpoints

from .keys import subscription_json
from .test_views import SUBSCRIBE, UNSUBSCRIBE, post_json

CHECK = reverse("inbox:push_check")
RENEW = reverse("inbox:push_renew")


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: ["93.184.216.34"])


def browser(name: str) -> dict:
    """A browser's PushSubscription with its own keys and auth secret."""
    return subscription_json(f"https://push.example.net/send/{name}")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def owners() -> dict[str, str]:
    return dict(PushInformation.objects.values_list("subscription__endpoint", "user__username"))


@pytest.fixture
def bobs(bob):
    subscription = browser("bob")
    assert post_json(logged_in(bob), SUBSCRIBE, {"subscription": subscription}).status_code == 201
    return subscription


def test_subscribing_another_users_endpoint_is_a_409_and_changes_nothing(alice, bobs):
    before = list(SubscriptionInfo.objects.values())
    stolen = {**bobs, "keys": browser("x")["keys"]}  # Alice's own keys on Bob's endpoint
    response = post_json(logged_in(alice), SUBSCRIBE, {"subscription": stolen, "browser": "Evil"})
    assert response.status_code == 409
    assert response.json() == {"error": "This browser's push subscription belongs to another account."}
    assert owners() == {bobs["endpoint"]: "bob"}
    assert list(SubscriptionInfo.objects.values()) == before


def test_the_same_user_saving_again_updates_the_keys(bob, bobs):
    renewed = {**bobs, "keys": browser("x")["keys"]}
    response = post_json(logged_in(bob), SUBSCRIBE, {"subscription": renewed, "browser": "Firefox"})
    assert response.status_code == 200
    info = SubscriptionInfo.objects.get()
    assert (info.p256dh, info.auth, info.browser) == (
        renewed["keys"]["p256dh"],
        renewed["keys"]["auth"],
        "Firefox",
    )
    assert response.json() == {"id": info.pk}


def renewal(old: dict, old_auth, new_name="renewed") -> dict:
    body = {"old_endpoint": old["endpoint"], "subscription": browser(new_name)}
    if old_auth is not None:
        body["old_auth"] = old_auth
    return body


@pytest.mark.parametrize("old_auth", [None, "", "AAAAAAAAAAAAAAAAAAAAAA", 5, "not base64!"])
def test_renew_without_the_old_auth_secret_is_a_403_and_changes_nothing(bobs, old_auth):
    before = list(SubscriptionInfo.objects.values())
    response = post_json(Client(), RENEW, renewal(bobs, old_auth))
    assert response.status_code == 403
    assert response.json() == {"error": "The old subscription could not be verified."}
    assert list(SubscriptionInfo.objects.values()) == before


def test_renew_of_an_unknown_endpoint_gets_the_same_403(bobs):
    body = renewal({"endpoint": "https://push.example.net/send/nobody"}, bobs["keys"]["auth"])
    response = post_json(Client(), RENEW, body)
    assert response.status_code == 403
    assert response.json() == {"error": "The old subscription could not be verified."}


def test_renew_with_the_old_auth_secret_keeps_the_owner(bobs):
    body = renewal(bobs, bobs["keys"]["auth"])
    assert post_json(Client(enforce_csrf_checks=True), RENEW, body).json() == {"renewed": 1}
    info = SubscriptionInfo.objects.get()
    assert (info.endpoint, info.auth) == (
        body["subscription"]["endpoint"],
        body["subscription"]["keys"]["auth"],
    )
    assert owners() == {info.endpoint: "bob"}


def test_renew_onto_an_endpoint_stored_for_another_row_is_a_409(alice, bobs):
    alices = browser("alice")
    post_json(logged_in(alice), SUBSCRIBE, {"subscription": alices})
    body = renewal(bobs, bobs["keys"]["auth"])
    body["subscription"] = {**alices, "keys": browser("x")["keys"]}
    response = post_json(Client(), RENEW, body)
    assert response.status_code == 409
    assert owners() == {bobs["endpoint"]: "bob", alices["endpoint"]: "alice"}


def test_unsubscribe_with_the_right_auth_releases_another_users_row(alice, bobs):
    client = logged_in(alice)
    wrong = post_json(
        client, UNSUBSCRIBE, {"endpoint": bobs["endpoint"], "auth": browser("x")["keys"]["auth"]}
    )
    assert wrong.json() == {"removed": False}
    assert post_json(client, UNSUBSCRIBE, {"endpoint": bobs["endpoint"]}).json() == {"removed": False}
    assert owners() == {bobs["endpoint"]: "bob"}
    right = post_json(client, UNSUBSCRIBE, {"endpoint": bobs["endpoint"], "auth": bobs["keys"]["auth"]})
    assert right.json() == {"removed": True}
    assert not SubscriptionInfo.objects.exists()
    # The browser is free again: Alice can now subscribe it.
    assert post_json(client, SUBSCRIBE, {"subscription": bobs}).status_code == 201
    assert owners() == {bobs["endpoint"]: "alice"}


def test_check_says_whether_this_browser_is_the_current_users(alice, bob, bobs):
    auth = bobs["keys"]["auth"]
    assert post_json(logged_in(bob), CHECK, {"endpoint": bobs["endpoint"], "auth": auth}).json() == {
        "mine": True
    }
    wrong = browser("x")["keys"]["auth"]
    assert post_json(logged_in(bob), CHECK, {"endpoint": bobs["endpoint"], "auth": wrong}).json() == {
        "mine": False
    }
    assert post_json(logged_in(bob), CHECK, {"endpoint": bobs["endpoint"]}).json() == {"mine": False}
    assert post_json(logged_in(alice), CHECK, {"endpoint": bobs["endpoint"], "auth": auth}).json() == {
        "mine": False
    }
    unknown = {"endpoint": "https://push.example.net/send/none", "auth": auth}
    assert post_json(logged_in(bob), CHECK, unknown).json() == {"mine": False}


def test_check_needs_login_and_csrf(alice, bobs):
    body = {"endpoint": bobs["endpoint"], "auth": bobs["keys"]["auth"]}
    assert post_json(Client(), CHECK, body).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert post_json(strict, CHECK, body).status_code == 403
    assert logged_in(alice).get(CHECK).status_code == 405


LOGOUTS = {"site": "logout", "admin": "admin:logout"}


@pytest.mark.parametrize("path", LOGOUTS)
def test_logging_out_removes_the_subscriptions_this_session_saved(staff, path):
    laptop, phone = logged_in(staff), logged_in(staff)
    post_json(laptop, SUBSCRIBE, {"subscription": browser("laptop")})
    post_json(phone, SUBSCRIBE, {"subscription": browser("phone")})
    response = laptop.post(reverse(LOGOUTS[path]))
    assert response.status_code in (200, 302)
    assert owners() == {"https://push.example.net/send/phone": "sam"}  # the other browser keeps its own


@pytest.mark.parametrize("path", LOGOUTS)
def test_logging_out_removes_a_subscription_the_page_confirmed(staff, path):
    """A subscription saved in an earlier session is recorded when the page checks it."""
    subscription = browser("laptop")
    post_json(logged_in(staff), SUBSCRIBE, {"subscription": subscription})
    later = logged_in(staff)
    assert post_json(
        later, CHECK, {"endpoint": subscription["endpoint"], "auth": subscription["keys"]["auth"]}
    ).json()["mine"]
    later.post(reverse(LOGOUTS[path]))
    assert not SubscriptionInfo.objects.exists()


def test_logging_out_leaves_other_users_subscriptions_alone(alice, bob, bobs):
    client = logged_in(alice)
    session = client.session  # one that lists Bob's id (it never could, but it must not matter)
    session["inbox_push_subscriptions"] = [SubscriptionInfo.objects.get().pk, "junk", True]
    session.save()
    client.post(reverse("logout"))
    assert owners() == {bobs["endpoint"]: "bob"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writes need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_subscribes_of_one_endpoint_make_one_row(alice):
    """16 requests at once for the same endpoint: one row, one owner, one 201 (PostgreSQL)."""
    subscription = browser("shared")
    clients = [logged_in(alice) for _ in range(16)]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def subscribe(client):
        try:
            barrier.wait()
            statuses.append(post_json(client, SUBSCRIBE, {"subscription": subscription}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=subscribe, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 15 + [201]
    assert SubscriptionInfo.objects.count() == 1
    assert PushInformation.objects.count() == 1
    assert owners() == {subscription["endpoint"]: "alice"}
