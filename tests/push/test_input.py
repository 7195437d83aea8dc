"""Bad input to the push endpoints is a 4xx with a message, never a 500 (issue 6, items 7, 8, 9).

These run on SQLite and on PostgreSQL (DATABASE_URL): a NUL or an overlong value that reached
PostgreSQL was a 500 there.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from webpush.models import SubscriptionInfo

from inbox.push import endpoints
from inbox.push import views as push_views

from .test_endpoints import AUTH, P256DH, subscription
from .test_views import SUBSCRIBE, UNSUBSCRIBE, post_json

CHECK = reverse("inbox:push_check")
RENEW = reverse("inbox:push_renew")
READ = reverse("inbox:push_read")
JSON_ENDPOINTS = [SUBSCRIBE, UNSUBSCRIBE, CHECK, RENEW, READ]


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: ["93.184.216.34"])


def post_raw(client, url, body: bytes | str, **extra):
    return client.post(url, body, content_type="application/json", **extra)


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("[" * 100_000, 413, "larger than 4096 bytes"),
        ("x" * 4097, 413, "larger than 4096 bytes"),
        ("[" * 3000, 400, "not JSON"),
        ('{"token": ' + "[" * 2000 + "]" * 2000 + "}", 400, ""),
        ("9" * 5000, 413, "larger than 4096 bytes"),
        (b'{"endpoint": "\xff\xfe"}', 400, "not UTF-8"),
        ("{not json", 400, "not JSON"),
        ("", 415, "must be JSON"),  # the test client sends no Content-Type with an empty body
        ("[]", 400, "JSON object"),
        ("null", 400, "JSON object"),
        ('"text"', 400, "JSON object"),
    ],
)
def test_a_malformed_body_is_a_4xx_with_a_message(alice_client, url, body, status, message):
    response = post_raw(alice_client, url, body)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert not SubscriptionInfo.objects.exists()


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
def test_json_nested_past_the_recursion_limit_is_a_400(alice_client, monkeypatch, url):
    """Under a larger cap, the decoder's RecursionError still gives a 400."""
    monkeypatch.setattr(push_views, "BODY_MAX_BYTES", 200_000)
    response = post_raw(alice_client, url, "[" * 100_000)
    assert response.status_code == 400
    assert response.json() == {"error": "The request body's JSON is nested too deeply."}


@pytest.mark.parametrize("url", [RENEW, READ])
@pytest.mark.parametrize("body", ["[" * 100_000, "9" * 5000, "[" * 3000])
def test_the_anonymous_endpoints_refuse_it_too(db, url, body):
    response = post_raw(Client(), url, body)
    assert response.status_code in (400, 413)
    assert response.json()["error"]


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
def test_a_number_longer_than_python_converts_is_a_400(alice_client, monkeypatch, url):
    """Under a larger cap, int()'s 4300-digit limit (a ValueError) still gives a 400."""
    monkeypatch.setattr(push_views, "BODY_MAX_BYTES", 10_000)
    response = post_raw(alice_client, url, '{"token": ' + "9" * 5000 + "}")
    assert response.status_code == 400
    assert response.json() == {"error": "The request body is not JSON."}


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
def test_the_size_is_refused_before_the_body_is_read(alice_client, url):
    """A declared length over the cap is a 413 at once (reading it would fail, or take memory)."""
    response = post_raw(alice_client, url, "{}", CONTENT_LENGTH="100000000")
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is larger than 4096 bytes."}


def test_the_form_unsubscribe_is_capped_too(alice_client):
    response = alice_client.post(UNSUBSCRIBE, {"subscription_id": "1", "pad": "x" * 5000})
    assert response.status_code == 413


def keys(p256dh=P256DH, auth=AUTH):
    return {"subscription": subscription(p256dh=p256dh, auth=auth), "browser": "Firefox"}


OFF_CURVE = "BA" + "A" * 85  # 0x04 then 64 zero bytes: uncompressed form, but not on P-256


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (keys(p256dh=P256DH[:10] + "!" + P256DH[10:]), "p256dh key is not base64url"),
        (keys(p256dh=P256DH[:10] + " " + P256DH[10:]), "p256dh key is not base64url"),
        (keys(p256dh=P256DH + "!" * 200), "p256dh key is longer than 100"),
        (keys(p256dh="x" * 3000), "p256dh key is longer than 100"),
        (keys(p256dh=P256DH.replace("-", "+").replace("_", "/")), "not base64url"),
        (keys(p256dh=OFF_CURVE), "not an uncompressed P-256 point"),
        (keys(p256dh=P256DH + "=="), "not base64url"),  # one '=' is the padding, not two
        (keys(auth=AUTH + "!"), "auth key is not base64url"),
        (keys(auth=AUTH + "\x00"), "auth key is not base64url"),
        (keys(auth=AUTH[:-1]), "auth key is not base64url"),  # 21 characters cannot be base64
        (keys(auth=AUTH[:-2]), "auth key must be 16 bytes, not 15"),
        (keys(auth=5), "no auth key"),
        ({"subscription": subscription("https://push.example.net/a\x00b")}, "control characters"),
        ({"subscription": subscription("https://push.example.net/a b")}, "control characters"),
        ({"subscription": subscription("https://push.example.net/é")}, "control characters"),
        ({"subscription": subscription(), "browser": "Fire\x00fox"}, "control characters"),
        ({"subscription": subscription(), "browser": "Fire\x1bfox"}, "control characters"),
        ({"subscription": subscription(), "browser": "\ud800"}, "control characters"),
        ({"subscription": subscription(), "browser": ["Firefox"]}, "browser must be a string"),
    ],
)
def test_bad_keys_and_characters_are_a_400(alice_client, body, message):
    response = post_json(alice_client, SUBSCRIBE, body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not SubscriptionInfo.objects.exists()


def test_a_5000_character_key_is_refused_by_size(alice_client):
    response = post_json(alice_client, SUBSCRIBE, keys(p256dh="A" * 5000))
    assert response.status_code == 413
    assert not SubscriptionInfo.objects.exists()


def test_keys_are_stored_in_their_normal_unpadded_form(alice_client):
    response = post_json(alice_client, SUBSCRIBE, keys(p256dh=P256DH + "===", auth=AUTH + "=="))
    assert response.status_code == 400  # three '=' is never valid padding
    response = post_json(alice_client, SUBSCRIBE, keys(auth=AUTH + "=="))
    assert response.status_code == 201
    assert SubscriptionInfo.objects.values_list("p256dh", "auth").get() == (P256DH, AUTH)


def test_the_browser_name_is_bounded_and_the_user_agent_cleaned(alice_client):
    body = {"subscription": subscription(), "browser": "B" * 150}
    response = post_json(alice_client, SUBSCRIBE, body, User_Agent="Agent\x00/1.0\x7f\r" + "u" * 600)
    assert response.status_code == 201
    info = SubscriptionInfo.objects.get()
    assert info.browser == "B" * 100
    assert info.user_agent == ("Agent/1.0" + "u" * 600)[:500]


@pytest.mark.parametrize("url", [UNSUBSCRIBE, CHECK])
@pytest.mark.parametrize(
    "body",
    [
        {"endpoint": "https://push.example.net/a\x00b", "auth": AUTH},
        {"endpoint": "https://push.example.net/" + "x" * 600, "auth": AUTH},
        {"endpoint": 5, "auth": AUTH},
        {"endpoint": "https://push.example.net/a", "auth": ["x"]},
    ],
)
def test_unsubscribe_and_check_refuse_bad_fields(alice_client, url, body):
    response = post_json(alice_client, url, body)
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"old_endpoint": "https://push.example.net/a\x00b", "old_auth": AUTH, "subscription": subscription()},
        {"old_endpoint": ["x"], "old_auth": AUTH, "subscription": subscription()},
        {"old_endpoint": "https://push.example.net/a", "old_auth": AUTH, "subscription": "x"},
    ],
)
def test_renew_refuses_bad_fields(db, body):
    response = post_json(Client(), RENEW, body)
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize("token", ["x" * 301, 5, None, ["a"]])
def test_a_bad_read_token_is_a_400_with_a_message(db, token):
    response = post_json(Client(), READ, {"token": token})
    assert response.status_code == 400
    assert response.json() == {"error": "The token is missing, altered or too old."}


@pytest.mark.parametrize("value", ["²", "١", "1" * 19, " 1", "1 ", "-1", "+1", "0x1", "", "1.0"])
def test_a_subscription_id_must_be_ascii_digits(alice_client, value):
    response = alice_client.post(UNSUBSCRIBE, {"subscription_id": value})
    assert response.status_code == 400
    assert response.json() == {"error": "subscription_id must be a number."}


def strict_client(user) -> Client:
    """A browser: CSRF is checked, so the middleware reads request.POST before the view runs."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(reverse("inbox:index"))  # sets the CSRF cookie
    return client


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (url, kind)
        for url in JSON_ENDPOINTS
        for kind in ("multipart", "text/plain", "none")
        if (url, kind) != (UNSUBSCRIBE, "multipart")  # the preferences page's form: see the test below
    ],
)
def test_a_body_that_is_not_json_is_a_415_with_a_message(alice, url, kind):
    """multipart/form-data was a 500 (RawPostDataException: the CSRF middleware had parsed the
    form, so request.body was gone). unsubscribe/ also takes a form (the preferences page's)."""
    client = strict_client(alice)
    token = client.cookies["csrftoken"].value
    if kind == "multipart":
        response = client.post(
            url, {"token": "x", "endpoint": "https://push.example.net/x"}, HTTP_X_CSRFTOKEN=token
        )
    else:
        content_type = kind if kind != "none" else ""
        response = client.post(url, '{"token": "x"}', content_type=content_type, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 415
    assert response.json() == {"error": "The request body must be JSON (Content-Type: application/json)."}
    assert not SubscriptionInfo.objects.exists()


def test_json_with_a_charset_is_still_json(alice_client):
    response = alice_client.post(
        CHECK, '{"endpoint": "https://push.example.net/x"}', content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 200 and response.json() == {"mine": False}


def test_a_multipart_form_to_unsubscribe_is_read_as_the_form(alice):
    client = strict_client(alice)
    token = client.cookies["csrftoken"].value
    response = client.post(UNSUBSCRIBE, {"subscription_id": "x"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400
    assert response.json() == {"error": "subscription_id must be a number."}
