from __future__ import annotations

import pytest
from django.template import Context, Template
from django.template.loader import get_template
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from inbox.badge import Badge
from inbox.web import fragments
from inbox.web.templatetags.inbox import bell_context, head_context


@pytest.fixture(autouse=True)
def empty_cache():
    fragments.clear()
    yield
    fragments.clear()


def fresh(name, context, token):
    return get_template(name).render({**context, "csrf_token": token})


CASES = [
    ("inbox/head.html", head_context),
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


def test_frozen_keys_tell_apart_values_that_print_differently():
    def key(value):
        return fragments.frozen(value)

    assert key(True) != key(1) and key(False) != key(0) and key("1") != key(1)
    assert key("<b>") != key(mark_safe("<b>"))
    assert key([("a", "A")]) != key((("a", "A"),))  # a list and a tuple print differently
    assert key([("a", "A"), ("b", None)]) == key([("a", "A"), ("b", None)])
    assert key(gettext_lazy("Notifications")) == key("Notifications")
    hash(key([("a", ["b", 1, None, True])]))


def test_the_key_is_what_the_value_holds_now():
    """A tuple that holds a list or a lazy string gives the key of what it holds now."""
    labels = ["A"]
    holder = (("a", labels),)
    before = fragments.frozen(holder)
    labels.append("B")
    assert fragments.frozen(holder) != before
    lazy = (("1", gettext_lazy("January")),)
    english = fragments.frozen(lazy)
    with translation.override("de"):
        assert fragments.frozen(lazy) != english
    assert fragments.frozen(lazy) == english


@pytest.mark.parametrize("value", [object(), 1.5, {"a": 1}, Badge(count=1, limit=99)])
def test_frozen_refuses_anything_but_plain_data(value, alice):
    for given in (value, [value], (alice,)):
        with pytest.raises(TypeError, match="plain data"):
            fragments.frozen(given)


def test_the_fragment_tag_renders_only_its_values_once(db):
    page = Template(
        '{% load inbox %}{% inbox_fragment "inbox/index.html#empty" filter=filter kind=kind level="" %}'
    )
    context = {"filter": "unread", "kind": "", "level": "error", "csrf_token": "t"}
    assert (
        page.render(Context(context))
        == '<li class="empty">No unread notifications. You\'re all caught up.</li>'
    )
    assert page.render(Context({**context, "kind": "mention"})).startswith(
        '<li class="empty">No unread notifications of'
    )
    assert len(fragments._parts) == 2
    page.render(Context(context))
    assert len(fragments._parts) == 2
