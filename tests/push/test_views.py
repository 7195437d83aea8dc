from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from webpush.models import PushInformation, SubscriptionInfo

from inbox.models import Notification
from inbox.push import endpoints
from inbox.push.tokens import read_token

from .test_endpoints import AUTH, P256DH, subscription

SUBSCRIBE = reverse("inbox:push_subscribe")
UNSUBSCRIBE = reverse("inbox:push_unsubscribe")


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    monkeypatch.setattr(
        endpoints, "resolve", lambda host, port: {"10.0.0.1" if "internal" in host else "93.184.216.34"}
    )


def post_json(client, url, body, **headers):
    return client.post(
        url,
        json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        headers=headers,
    )


def test_subscribe_stores_the_subscription_for_the_user(alice_client, alice):
    response = post_json(
        alice_client,
        SUBSCRIBE,
        {"subscription": subscription(), "browser": "Chromium"},
        User_Agent="TestAgent/1.0",
    )
    assert response.status_code == 201
    info = SubscriptionInfo.objects.get()
    assert (info.endpoint, info.p256dh, info.auth, info.browser, info.user_agent) == (
        "https://push.example.net/send/abc",
        P256DH,
        AUTH,
        "Chromium",
        "TestAgent/1.0",
    )
    assert PushInformation.objects.get().user == alice


def test_several_browsers_per_user_and_no_duplicates(alice_client, alice):
    post_json(alice_client, SUBSCRIBE, {"subscription": subscription("https://push.example.net/1")})
    post_json(alice_client, SUBSCRIBE, {"subscription": subscription("https://push.example.net/2")})
    again = post_json(alice_client, SUBSCRIBE, {"subscription": subscription("https://push.example.net/1")})
    assert again.status_code == 200
    assert SubscriptionInfo.objects.count() == 2
    assert PushInformation.objects.filter(user=alice).count() == 2


def test_a_browser_that_changes_user_is_not_moved_silently(client, alice, bob):
    client.force_login(alice)
    post_json(client, SUBSCRIBE, {"subscription": subscription()})
    client.force_login(bob)
    response = post_json(client, SUBSCRIBE, {"subscription": subscription()})
    assert response.status_code == 409
    assert response.json() == {"error": "This browser's push subscription belongs to another account."}
    assert list(PushInformation.objects.values_list("user__username", flat=True)) == ["alice"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ({"subscription": "x"}, "JSON object"),
        ({"subscription": subscription(p256dh="short")}, "p256dh"),
        ({"subscription": subscription("http://push.example.net/x")}, "https"),
        ({"subscription": subscription("https://internal.example.net/x")}, "non-public"),
    ],
)
def test_a_bad_subscription_is_a_400_with_a_message(alice_client, body, message):
    response = post_json(alice_client, SUBSCRIBE, body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not SubscriptionInfo.objects.exists()


def test_subscribing_needs_login_and_csrf(client, alice, alice_client):
    client.logout()
    assert post_json(client, SUBSCRIBE, {"subscription": subscription()}).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert post_json(strict, SUBSCRIBE, {"subscription": subscription()}).status_code == 403
    assert alice_client.get(SUBSCRIBE).status_code == 405
    assert not SubscriptionInfo.objects.exists()


def test_unsubscribe_removes_only_the_users_own(client, alice, bob):
    client.force_login(bob)
    post_json(client, SUBSCRIBE, {"subscription": subscription("https://push.example.net/bob")})
    client.force_login(alice)
    post_json(client, SUBSCRIBE, {"subscription": subscription("https://push.example.net/alice")})
    assert post_json(client, UNSUBSCRIBE, {"endpoint": "https://push.example.net/bob"}).json() == {
        "removed": False
    }
    assert post_json(client, UNSUBSCRIBE, {"endpoint": "https://push.example.net/alice"}).json() == {
        "removed": True
    }
    assert list(SubscriptionInfo.objects.values_list("endpoint", flat=True)) == [
        "https://push.example.net/bob"
    ]
    assert post_json(client, UNSUBSCRIBE, {"nothing": 1}).status_code == 400


def test_preferences_lists_browsers_and_removes_them_without_javascript(alice_client, alice, bob):
    post_json(alice_client, SUBSCRIBE, {"subscription": subscription(), "browser": "Firefox"})
    page = alice_client.get(reverse("inbox:preferences")).content.decode()
    assert "Firefox" in page and 'role="switch"' in page and "Push notifications" in page
    info = SubscriptionInfo.objects.get()
    bobs = Client()
    bobs.force_login(bob)
    assert bobs.post(UNSUBSCRIBE, {"subscription_id": info.pk}).status_code == 404
    response = alice_client.post(UNSUBSCRIBE, {"subscription_id": info.pk})
    assert response.status_code == 302 and response["Location"] == reverse("inbox:preferences")
    assert not SubscriptionInfo.objects.exists()


def test_the_service_worker_marks_read_with_the_token_from_the_push(alice, make_notifications):
    (note,) = make_notifications(alice, 1)
    worker = Client(enforce_csrf_checks=True)  # a service worker has cookies but no CSRF token
    response = post_json(worker, reverse("inbox:push_read"), {"token": read_token(note.pk)})
    assert response.status_code == 204
    assert Notification.objects.get().read_at is not None


@pytest.mark.parametrize("body", [{"token": "forged"}, {"token": 5}, {}, "[]", "oops"])
def test_a_bad_read_token_is_a_400(alice, make_notifications, body):
    (note,) = make_notifications(alice, 1)
    assert post_json(Client(), reverse("inbox:push_read"), body).status_code == 400
    tampered = read_token(note.pk)[:-2] + "xx"
    assert post_json(Client(), reverse("inbox:push_read"), {"token": tampered}).status_code == 400
    assert Notification.objects.get().read_at is None


def test_renew_replaces_the_endpoint_with_the_old_auth_secret(alice_client):
    post_json(alice_client, SUBSCRIBE, {"subscription": subscription("https://push.example.net/old")})
    body = {
        "old_endpoint": "https://push.example.net/old",
        "old_auth": AUTH,
        "subscription": subscription("https://push.example.net/new"),
    }
    assert post_json(Client(), reverse("inbox:push_renew"), body).json() == {"renewed": 1}
    assert SubscriptionInfo.objects.get().endpoint == "https://push.example.net/new"
    body["old_endpoint"] = "https://push.example.net/unknown"
    assert post_json(Client(), reverse("inbox:push_renew"), body).status_code == 403
    body["subscription"] = subscription("https://internal.example.net/x")
    assert post_json(Client(), reverse("inbox:push_renew"), body).status_code == 400


def test_a_malformed_subscription_id_is_a_400(alice_client):
    assert alice_client.post(UNSUBSCRIBE, {"subscription_id": "abc"}).status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        "abc",
        "12",
        "1\x00",
        "١٢",
        "½",
        1.5,
        True,
        None,
        [1],
        {"id": 1},
        2**63,
        -(2**70),
        0,
        -1,
        10**400 // 10**395,
    ],
    ids=repr,
)
def test_a_validly_signed_token_around_anything_but_an_id_is_a_400(alice, make_notifications, payload):
    """The signer's own signature, around a payload that is no notification id: a 400, not a
    500 (a string or a float reached the query; 2**63 overflowed SQLite's integer)."""
    from django.core import signing

    from inbox.push.tokens import READ_TOKEN_SALT

    (note,) = make_notifications(alice, 1)
    token = signing.dumps(payload, salt=READ_TOKEN_SALT, compress=True)
    response = post_json(Client(), reverse("inbox:push_read"), {"token": token})
    if payload == 100_000:  # 10**400 // 10**395: a real (unknown) id, nothing to mark
        assert response.status_code == 204
    else:
        assert response.status_code == 400
        assert response.json() == {"error": "The token is missing, altered or too old."}
    assert Notification.objects.get().read_at is None
