from __future__ import annotations

import pytest
from django.template.loader import get_template

from inbox.badge import Badge
from inbox.templatetags.inbox import bell_context, head_context
from inbox.web import fragments


@pytest.fixture(autouse=True)
def empty_cache():
    fragments.clear()
    yield
    fragments.clear()


def fresh(name, context, token):
    return get_template(name).render({**context, "csrf_token": token})


CASES = [
    ("inbox/head.html", lambda: head_context("inbox:sw")),
    ("inbox/bell.html#bell", lambda: bell_context(Badge(count=3, limit=99), 15, "/inbox/ws/")),
    (
        "inbox/bell.html#dropdown",
        lambda: {"items": [], "inbox_vapid_public_key": "key"},
    ),  # a {% csrf_token %}
    ("inbox/bell.html#badge", lambda: {"inbox_badge": Badge(count=120, limit=99), "oob": True}),
]


@pytest.mark.parametrize(("name", "make"), CASES)
@pytest.mark.parametrize("token", ["a1B2c3", None, "NOTPROVIDED", '"><script>'])
def test_the_cached_fragment_is_the_fresh_render(db, name, make, token):
    fragments.partial(name, "key", make, "first-token")  # now cached
    assert fragments.partial(name, "key", make, token) == fresh(name, make(), token)


def test_the_context_is_made_only_for_a_new_key(db):
    made = []

    def make():
        made.append(1)
        return {"inbox_badge": Badge(count=len(made), limit=99)}

    first = fragments.partial("inbox/bell.html#badge", "k1", make)
    assert fragments.partial("inbox/bell.html#badge", "k1", make) == first and len(made) == 1
    assert fragments.partial("inbox/bell.html#badge", "k2", make) != first and len(made) == 2


def test_a_changed_setting_empties_the_cache(settings, alice_client, alice, make_notifications):
    settings.INBOX_BADGE_POLL_SECONDS = 15
    assert "every 15s" in alice_client.get("/inbox/badge/").content.decode()
    settings.INBOX_BADGE_POLL_SECONDS = 7
    assert "every 7s" in alice_client.get("/inbox/badge/").content.decode()


def test_the_page_bell_follows_the_badge(alice_client, alice, make_notifications):
    make_notifications(alice, 2)
    assert ", 2 unread" in alice_client.get("/inbox/").content.decode()
    make_notifications(alice, 1)
    html = alice_client.get("/inbox/").content.decode()
    assert ", 3 unread" in html and html.count('name="csrf-token"') == 1
