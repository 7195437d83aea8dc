"""Request input that a 400 names (an unknown kind, level, filter, place or cursor) never comes
back as markup: on the demo site (its error page, a template, escapes it) and on a host project
with Django's own 400 page and no CSP (tests.web.urls_elsewhere has no handler400)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from inbox.models import Notification

HTMX = {"HX-Request": "true"}
PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<svg/onload=alert(1)>"]
# Any of the payloads' tags, whole or cut short (a message may shorten what it names).
MARKUP = re.compile(r"<script>alert|<img src=x|<svg/onload", re.IGNORECASE)


def requests(note: Notification) -> list[tuple[str, str, str]]:
    """(method, URL name, parameter) of every app view that answers a bad parameter with a 400."""
    return [
        ("get", reverse("inbox:index"), "kind"),
        ("get", reverse("inbox:index"), "level"),
        ("get", reverse("inbox:index"), "filter"),
        ("get", reverse("inbox:index"), "after"),
        ("get", reverse("inbox:offline"), "part"),
        ("post", reverse("inbox:mark_all_read"), "kind"),
        ("post", reverse("inbox:mark_all_read"), "level"),
        ("post", reverse("inbox:mark_all_read"), "place"),
        ("post", reverse("inbox:mark_read", args=[note.pk]), "kind"),
        ("post", reverse("inbox:delete", args=[note.pk]), "place"),
    ]


@pytest.fixture
def note(alice, make_notifications):
    return make_notifications(alice, 1)[0]


def assert_no_markup(response, what: str) -> None:
    assert response.status_code == 400, what
    body = response.content.decode()
    assert not MARKUP.search(body), f"{what} echoed markup: {body[:500]}"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_400_echoes_markup(alice_client, note, payload, headers):
    for method, url, name in requests(note):
        response = getattr(alice_client, method)(url, {name: payload}, headers=headers)
        assert_no_markup(response, f"{method.upper()} {url}?{name}=")
    assert Notification.objects.unread().count() == 1  # and no action acted


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_no_400_echoes_markup_in_a_host_project(settings, alice_client, alice, make_notifications, debug):
    """A site with Django's own 400 handler (a new project's DEBUG is True)."""
    settings.ROOT_URLCONF = "tests.web.urls_elsewhere"
    settings.DEBUG = debug
    note = make_notifications(alice, 1)[0]
    for method, url, name in requests(note):
        for headers in ({}, HTMX):
            response = getattr(alice_client, method)(url, {name: PAYLOADS[0]}, headers=headers)
            assert_no_markup(response, f"{method.upper()} {url}?{name}=")


def test_the_demo_says_which_kind_is_unknown_escaped(alice_client):
    response = alice_client.get(reverse("inbox:index"), {"kind": "<b>x</b>"})
    assert response.status_code == 400
    assert "Unknown kind: &lt;b&gt;x&lt;/b&gt;." in response.content.decode()
    fragment = alice_client.get(reverse("inbox:index"), {"kind": "<b>x</b>"}, headers=HTMX)
    assert fragment.content.decode() == (
        '<p id="request-message-text" hx-swap-oob="innerHTML">Unknown kind: &lt;b&gt;x&lt;/b&gt;.</p>'
    )
