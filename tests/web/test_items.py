from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox import kinds
from inbox.api import notify
from inbox.models import Message, Notification
from inbox.web import items
from inbox.web.rows import newest_rows

# 30 s into a minute (and a second, an hour): a test never sits on a naturaltime boundary.
SAFE_AGES = [timedelta(minutes=5, seconds=30), timedelta(hours=3, minutes=30), timedelta(days=20, hours=12)]


@pytest.fixture(autouse=True)
def empty_cache():
    items.cache_clear()
    yield
    items.cache_clear()


def make(
    user, age=SAFE_AGES[0], *, text="Deploy done", url="", level="info", read=False, kind="general"
) -> Notification:
    created = timezone.now() - age
    message = Message.objects.create(text=text, url=url, level=level, kind=kind, created=created)
    return Notification.objects.create(
        recipient=user, message=message, created=created, read_at=timezone.now() if read else None
    )


def fresh(notification, place, token, **filters):
    return items.render_item(notification, place, token, **filters)


@pytest.mark.parametrize("place", items.PLACES)
@pytest.mark.parametrize("read", [False, True])
@pytest.mark.parametrize("age", SAFE_AGES)
def test_the_cached_html_is_the_fresh_render(alice, place, read, age):
    notification = make(alice, age, url="/builds/7/", read=read)
    first = items.item_html(notification, place, "tok1")
    second = items.item_html(notification, place, "tok2")
    assert first == fresh(notification, place, "tok1")
    assert second == fresh(notification, place, "tok2")
    assert items.cache_info().misses == 1 and items.cache_info().hits == 1
    assert f'id="notification-{notification.pk}"' in first or place == "dropdown"
    assert reverse("inbox:delete", args=[notification.pk]) in first
    assert 'name="csrfmiddlewaretoken" value="tok1"' in first


def test_one_render_serves_every_recipient_of_a_broadcast(alice, bob, staff):
    notify([alice, bob, staff], "Maintenance at noon", url="/status/")
    rows = list(Notification.objects.select_related("message").order_by("pk"))
    html = [items.item_html(n, "all", f"token{n.pk}") for n in rows]
    assert items.cache_info().misses == 1 and items.cache_info().hits == 2
    for notification, got in zip(rows, html, strict=True):
        assert got == fresh(notification, "all", f"token{notification.pk}")


def test_message_item_is_filled_per_recipient(alice):
    notification = make(alice)
    template = items.message_item(notification.message, "unread", created=notification.created)
    assert template.fill(notification.pk, "abc") == fresh(notification, "unread", "abc")
    assert template.fill(notification.pk, None) == fresh(notification, "unread", None)
    assert "csrfmiddlewaretoken" not in template.fill(notification.pk, "NOTPROVIDED")


@pytest.mark.parametrize("token", ['x"><script>alert(1)</script>', "tok-en", "é" * 8, "a" * 64])
def test_the_token_is_escaped_as_the_template_escapes_it(alice, token):
    """A Django token is letters and digits and is put in as it is; anything else is escaped."""
    notification = make(alice)
    template = items.message_item(notification.message, "all")
    assert template.fill(notification.pk, token) == fresh(notification, "all", token)
    assert "<script>" not in template.fill(notification.pk, token)


def test_a_lazy_token_is_put_in_as_its_value():
    from django.utils.functional import SimpleLazyObject

    assert items.csrf_input(SimpleLazyObject(lambda: "abc123")) == items.csrf_input("abc123")
    assert 'value="abc123"' in items.csrf_input("abc123")


def test_message_item_defaults_to_the_message_time(alice):
    notification = make(alice)
    template = items.message_item(notification.message, "dropdown")
    assert template.fill(notification.pk, "t") == fresh(notification, "dropdown", "t")


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Other text"},
        {"url": "/elsewhere/"},
        {"level": "error"},
        {"read": True},
        {"place": "unread"},
        {"age": timedelta(minutes=6, seconds=30)},  # the next minute: another age bucket
        {"kind": "mention"},  # the item shows the kind's label
        {"filters": {"kind": "mention"}},  # the same item in a filtered list: its forms' back URL
        {"filters": {"level": "info"}},
        {"filters": {"kind": "mention", "level": "info"}},
    ],
)
def test_what_shapes_an_item_is_in_its_key(alice, change):
    base = {"text": "Deploy done", "url": "", "level": "info", "read": False, "age": SAFE_AGES[0]}
    place, filters = change.get("place", "all"), change.get("filters", {})
    one = make(alice, **base)
    other = make(alice, **{**base, **{k: v for k, v in change.items() if k not in ("place", "filters")}})
    items.item_html(one, "all", "t")
    html = items.item_html(other, place, "t", **filters)
    assert items.cache_info().misses == 2
    assert html == fresh(other, place, "t", **filters)


def test_an_item_shows_its_kind_and_keeps_its_lists_filters(alice):
    notification = make(alice, kind="build.finished", level="error")
    html = items.item_html(notification, "unread", "t", kind="build.finished", level="error")
    assert '<span class="kind">Builds</span>' in html
    assert 'name="next" value="/inbox/?filter=unread&amp;kind=build.finished&amp;level=error"' in html
    template = items.message_item(notification.message, "unread", kind="build.finished", level="error")
    assert template.fill(notification.pk, "t") == html
    assert 'value="/inbox/?filter=unread"' in items.item_html(notification, "unread", "t")
    assert "next" not in items.item_html(notification, "dropdown", "t", kind="build.finished")


def test_a_kind_registered_again_under_another_label_shows_it(alice):
    kinds.register("deploy", "Deploys")
    try:
        notification = make(alice, kind="deploy")
        assert '<span class="kind">Deploys</span>' in items.item_html(notification, "all", "t")
        kinds.register("deploy", "Releases")  # the same key, relabelled: no cached item shows the old
        html = items.item_html(notification, "all", "t")
        assert '<span class="kind">Releases</span>' in html
        assert html == fresh(notification, "all", "t")
        kinds.unregister("deploy")  # now shown by its key, as Message.kind_label does
        assert '<span class="kind">deploy</span>' in items.item_html(notification, "all", "t")
    finally:
        kinds.unregister("deploy")


def test_the_age_bucket_follows_what_naturaltime_shows():
    created = timezone.now() - timedelta(days=400)
    at = created + timedelta(seconds=30)
    assert items.age_bucket(created, at) == (1, 30)
    assert items.age_bucket(created, created + timedelta(minutes=5, seconds=59)) == (60, 5)
    assert items.age_bucket(created, created + timedelta(days=2, hours=3, minutes=59)) == (3600, 51)
    assert items.age_bucket(created, created + timedelta(days=30, hours=23)) == (86400, 30)
    assert items.age_bucket(created, created - timedelta(seconds=5))[0] == 1  # a clock ahead


def test_the_cache_is_bounded(alice, monkeypatch):
    notification = make(alice)
    for i in range(items.CACHE_SIZE + 50):
        notification.message.text = f"Message {i}"
        items.item_html(notification, "all", "t")
    assert items.cache_info().currsize == items.CACHE_SIZE


@pytest.mark.parametrize("place", items.PLACES)
def test_markup_in_text_and_link_stays_escaped(alice, place):
    notification = make(
        alice, text='<script>alert(1)</script> & "quotes"', url='/x/"><img src=x onerror=alert(1)>'
    )
    html = items.item_html(notification, place, '"><script>')
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html == fresh(notification, place, '"><script>')


def test_a_message_containing_a_placeholder_is_rendered_fresh(alice):
    notification = make(alice, text=f"id {items.ID_PLACEHOLDER} token {items.TOKEN_PLACEHOLDER}")
    html = items.item_html(notification, "all", "t")
    assert html == fresh(notification, "all", "t")
    assert items.ID_PLACEHOLDER in html and items.TOKEN_PLACEHOLDER in html  # the text, untouched


def test_an_unknown_place_is_refused(alice):
    with pytest.raises(ValueError, match="Unknown place"):
        items.message_item(make(alice).message, "sidebar")


def test_pages_render_items_from_the_cache_with_the_page_token(alice_client, alice, make_notifications):
    make_notifications(alice, 3, text="Cached {i}")
    first = alice_client.get(reverse("inbox:index")).content.decode()
    second = alice_client.get(reverse("inbox:index")).content.decode()
    assert items.cache_info().misses == 3 and items.cache_info().hits == 3
    assert "Cached 2" in second and first.count("Cached") == second.count("Cached") == 3
    token = alice_client.cookies["csrftoken"].value if "csrftoken" in alice_client.cookies else None
    tokens = {part.split('"', 1)[0] for part in second.split('name="csrfmiddlewaretoken" value="')[1:]}
    assert len(tokens) == 1, "every form of the page carries the page's one token"
    assert token is None or len(tokens.pop()) == 64


@pytest.mark.parametrize("fast_reads", [True, False])
@pytest.mark.parametrize("item_cache", [True, False])
@pytest.mark.parametrize("cached", [False, True])
def test_query_counts_do_not_change(
    alice_client,
    alice,
    make_notifications,
    django_assert_num_queries,
    cached,
    item_cache,
    fast_reads,
    settings,
):
    settings.INBOX_ITEM_CACHE, settings.INBOX_FAST_READS = item_cache, fast_reads
    make_notifications(alice, 25)
    if cached:
        alice_client.get(reverse("inbox:index"))
        alice_client.get(reverse("inbox:dropdown"))
    with django_assert_num_queries(3):  # session, user, the page with its messages and the badge
        alice_client.get(reverse("inbox:index"))
    with django_assert_num_queries(3):  # session, user, the list with its messages
        response = alice_client.get(reverse("inbox:dropdown"), headers={"HX-Request": "true"})
    assert response.content.decode().count('class="dropdown-item') == 8


def test_a_new_age_bucket_is_a_new_entry(alice, monkeypatch):
    notification = make(alice)
    items.item_html(notification, "all", "t")
    items.item_html(notification, "all", "t")
    later = timezone.now() + timedelta(minutes=1)
    monkeypatch.setattr(items.timezone, "now", lambda: later)
    items.item_html(notification, "all", "t")
    assert items.cache_info().misses == 2 and items.cache_info().hits == 1


@pytest.mark.parametrize("place", items.PLACES)
def test_a_lists_rows_render_as_their_notifications(alice, place):
    notifications = [
        make(alice, SAFE_AGES[0], url="/builds/7/", kind="mention"),
        make(alice, SAFE_AGES[1], read=True, level="error"),
        make(alice, SAFE_AGES[2], text=f"not cached {items.ID_PLACEHOLDER}"),
    ]
    rows = newest_rows(alice, 10)
    assert [row.pk for row in rows] == [n.pk for n in notifications]
    expected = "".join(fresh(n, place, "tok", kind="mention") for n in notifications)
    assert items.items_html(rows, place, "tok", kind="mention") == expected  # rendered now
    assert items.items_html(rows, place, "tok", kind="mention") == expected  # from the cache
    assert items.cache_info().hits == 3  # the placeholder one too: a cached None (render it fresh)


@pytest.mark.parametrize("place", items.PLACES)
def test_a_changed_setting_empties_the_cache(alice, settings, place):
    notification = make(alice)
    assert 'action="/inbox/' in items.item_html(notification, place, "t")
    settings.ROOT_URLCONF = "tests.web.urls_elsewhere"  # the dropdown's key holds no URL
    html = items.item_html(notification, place, "t")
    assert html == fresh(notification, place, "t") and 'action="/elsewhere/' in html


@pytest.mark.parametrize("place", items.PLACES)
@pytest.mark.parametrize("item_cache", [True, False])
def test_the_item_cache_can_be_turned_off(alice, settings, place, item_cache):
    """INBOX_ITEM_CACHE = False: the same HTML, rendered through the partial every time."""
    settings.INBOX_ITEM_CACHE = item_cache
    notifications = [make(alice, SAFE_AGES[0], url="/builds/7/"), make(alice, SAFE_AGES[1], read=True)]
    rows = newest_rows(alice, 10)
    expected = "".join(fresh(n, place, "tok") for n in notifications)
    assert items.items_html(rows, place, "tok") == expected
    assert items.items_html(rows, place, "tok") == expected
    template = items.message_item(notifications[0].message, place, created=notifications[0].created)
    assert (template is not None) == item_cache
    assert items.cache_info().currsize == (2 if item_cache else 0)


@pytest.mark.parametrize("item_cache", [True, False])
def test_pages_show_the_items_with_the_cache_on_or_off(alice_client, alice, settings, item_cache):
    settings.INBOX_ITEM_CACHE = item_cache
    make(alice, text="Shown either way", url="/builds/7/")
    page = alice_client.get(reverse("inbox:index")).content.decode()
    dropdown = alice_client.get(reverse("inbox:dropdown")).content.decode()
    assert "Shown either way" in page and "Shown either way" in dropdown
    assert items.cache_info().currsize == (2 if item_cache else 0)
