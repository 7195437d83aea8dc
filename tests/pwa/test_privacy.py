"""What the server tells browsers about one user's pages: never cache them, whose they are, when
the session ends, and that a logout clears the site's data."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from inbox.pwa.privacy import EXPIRES_HEADER, OWNER_HEADER, SESSION_EXPIRES_KEY

USER_PAGES = [
    ("inbox:index", {}),
    ("inbox:index", {"filter": "unread"}),
    ("inbox:badge", {}),
    ("inbox:dropdown", {}),
    ("inbox:preferences", {}),
    ("inbox:send", {}),
]


@pytest.mark.parametrize(("name", "query"), USER_PAGES)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_user_pages_are_never_stored_by_a_cache(client, staff, name, query, htmx):
    client.force_login(staff)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(reverse(name), query, headers=headers)
    assert response.status_code == 200
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control


def test_the_login_redirect_is_not_stored_either(client):
    response = client.get(reverse("inbox:index"))
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]


def test_responses_name_an_opaque_owner(client, alice, bob):
    client.force_login(alice)
    first = client.get(reverse("inbox:index"))[OWNER_HEADER]
    assert client.get(reverse("inbox:badge"))[OWNER_HEADER] == first  # one user, one owner
    assert client.get(reverse("inbox:manifest"))[OWNER_HEADER] == first  # every response, not just the inbox
    assert len(first) == 32 and int(first, 16) != alice.pk and "alice" not in first

    client.force_login(bob)
    assert client.get(reverse("inbox:index"))[OWNER_HEADER] not in {"", first}


def test_nobody_owns_an_anonymous_response(client, alice):
    assert OWNER_HEADER not in client.get(reverse("login"))
    assert "Cookie" not in client.get(reverse("inbox:manifest")).get("Vary", "")  # no session was read
    client.force_login(alice)
    client.post(reverse("logout"))
    response = client.get(reverse("login"))
    assert OWNER_HEADER not in response and EXPIRES_HEADER not in response


def test_the_session_end_is_recorded_at_login_and_does_not_move(client, alice, settings):
    settings.SESSION_COOKIE_AGE = 3600
    before = int(time.time())
    client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    expires = int(client.get(reverse("inbox:index"))[EXPIRES_HEADER])
    assert before + 3600 <= expires <= int(time.time()) + 3600
    session = Session.objects.get().get_decoded()
    assert session[SESSION_EXPIRES_KEY] == expires
    assert int(client.get(reverse("inbox:badge"))[EXPIRES_HEADER]) == expires


def test_a_session_from_before_gets_its_end_recorded(client, alice):
    client.force_login(alice)
    session = client.session
    del session[SESSION_EXPIRES_KEY]
    session.save()
    expires = int(client.get(reverse("inbox:index"))[EXPIRES_HEADER])
    assert expires > time.time()
    assert client.session[SESSION_EXPIRES_KEY] == expires


def test_logout_clears_the_site_data(client, alice):
    client.force_login(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert "Clear-Site-Data" not in client.get(reverse("login"))


def test_the_admin_logout_clears_the_site_data_too(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.post(reverse("admin:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")  # LOGOUT_REDIRECT_URL
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_other_responses_do_not_clear_anything(alice_client):
    assert "Clear-Site-Data" not in alice_client.get(reverse("inbox:index"))
