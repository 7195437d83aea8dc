from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from inbox.api import notify
from inbox.models import Notification

INDEX = reverse("inbox:index")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def mixed(alice):
    notify(alice, "Plain info")
    notify(alice, "Mentioned in a doc", kind="mention")
    notify(alice, "Build failed", kind="build.finished", level="error")
    notify(alice, "Build passed", kind="build.finished", level="success")


def texts(response) -> list[str]:
    return [n.message.text for n in response.context["items"]]


def test_filter_by_kind(alice_client, mixed):
    assert texts(alice_client.get(INDEX, {"kind": "build.finished"})) == ["Build passed", "Build failed"]
    assert texts(alice_client.get(INDEX, {"kind": "mention"})) == ["Mentioned in a doc"]


def test_filter_by_level_and_kind_together(alice_client, mixed):
    assert texts(alice_client.get(INDEX, {"level": "error"})) == ["Build failed"]
    assert texts(alice_client.get(INDEX, {"kind": "build.finished", "level": "info"})) == []
    html = alice_client.get(INDEX, {"kind": "build.finished", "level": "info"}).content.decode()
    assert "No notifications of this kind and level." in html


def test_the_filter_form_shows_the_choice(alice_client, mixed):
    html = alice_client.get(INDEX, {"kind": "mention", "level": "info"}).content.decode()
    assert '<option value="mention" selected>Mentions</option>' in html
    assert '<option value="info" selected>Info</option>' in html
    assert '<form class="list-filters" method="get" action="/inbox/"' in html


@pytest.mark.parametrize(
    "params",
    [{"kind": "nope"}, {"kind": "x" * 10_000}, {"kind": "a\x00"}, {"level": "loud"}, {"level": "²"}],
)
def test_unknown_kinds_and_levels_are_a_400_with_a_message(alice_client, params):
    response = alice_client.get(INDEX, params, headers=HTMX)  # the message alone, for the page's alert
    assert response.status_code == 400
    message = unescape(
        re.fullmatch(r'<p id="request-message-text"[^>]*>(.*)</p>', response.content.decode())[1]
    )
    assert message.startswith("Unknown ")
    assert len(message) < 300
    assert message in unescape(alice_client.get(INDEX, params).content.decode())  # and the page


def test_tabs_and_the_refresh_keep_the_filters(alice_client, mixed):
    html = unescape(alice_client.get(INDEX, {"kind": "mention", "level": "info"}).content.decode())
    assert 'href="?filter=unread&kind=mention&level=info"' in html
    assert 'href="?filter=all&kind=mention&level=info"' in html
    assert 'hx-get="/inbox/?filter=all&kind=mention&level=info" hx-trigger="inbox:refresh"' in html
    assert '<input type="hidden" name="next" value="/inbox/?filter=all&kind=mention&level=info">' in html


def test_keyset_paging_keeps_the_filters(settings, alice_client, alice):
    settings.INBOX_PAGE_SIZE = 2
    for i in range(5):
        notify(alice, f"Build {i}", kind="build.finished")
        notify(alice, f"Other {i}")
    first = alice_client.get(INDEX, {"kind": "build.finished"})
    assert texts(first) == ["Build 4", "Build 3"]
    cursor = first.context["next_cursor"]
    assert f'href="?filter=all&amp;kind=build.finished&amp;after={cursor}"' in first.content.decode()
    second = alice_client.get(INDEX, {"kind": "build.finished", "after": cursor}, headers=HTMX)
    assert texts(second) == ["Build 2", "Build 1"]


def test_an_htmx_action_answers_with_the_filtered_list(alice_client, alice, mixed):
    response = alice_client.post(
        reverse("inbox:mark_all_read"),
        {"place": "all", "kind": "build.finished", "level": ""},
        headers=HTMX,
    )
    html = response.content.decode()
    assert "Build failed" in html and "Mentioned in a doc" not in html
    # Only what the filter shows is marked: the other kinds stay unread.
    assert sorted(Notification.objects.unread().values_list("message__kind", flat=True)) == [
        "general",
        "mention",
    ]


def test_mark_all_read_with_a_level_tells_other_tabs_which_were_read(
    alice_client, alice, mixed, django_capture_on_commit_callbacks
):
    from inbox.signals import notification_read

    heard = []
    notification_read.connect(lambda sender, **kw: heard.append(kw), weak=False, dispatch_uid="test")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            alice_client.post(
                reverse("inbox:mark_all_read"), {"place": "unread", "level": "error"}, headers=HTMX
            )
    finally:
        notification_read.disconnect(dispatch_uid="test")
    failed = Notification.objects.get(message__text="Build failed")
    assert failed.is_read and Notification.objects.unread().count() == 3
    assert [(h["notification_ids"], h["all_read"]) for h in heard] == [((failed.pk,), False)]


def test_the_button_says_what_it_marks(alice_client, mixed):
    assert ">Mark all as read</button>" in alice_client.get(INDEX).content.decode()
    assert ">Mark these as read</button>" in alice_client.get(INDEX, {"kind": "mention"}).content.decode()


def test_an_action_with_an_unknown_kind_is_refused_before_it_changes_anything(alice_client, alice, mixed):
    response = alice_client.post(
        reverse("inbox:mark_all_read"), {"place": "all", "kind": "nope"}, headers=HTMX
    )
    assert response.status_code == 400
    assert Notification.objects.unread().count() == 4


def test_filters_add_no_query(alice_client, mixed, django_assert_num_queries):
    with django_assert_num_queries(3):  # session, user, the page of items
        alice_client.get(INDEX, {"kind": "mention", "level": "info", "filter": "unread"}, headers=HTMX)


def test_items_show_their_kind_and_keep_the_filters_in_their_forms(alice_client, mixed):
    html = unescape(alice_client.get(INDEX, {"kind": "build.finished", "level": "error"}).content.decode())
    item = html.split('id="notification-')[1].split("</li>")[0]
    assert "Build failed" in item and '<span class="kind">Builds</span>' in item
    assert 'name="next" value="/inbox/?filter=all&kind=build.finished&level=error"' in item
    # The list tells the page script what it shows (sent to the socket in hello/state).
    assert 'data-filter="all" data-kind="build.finished" data-level="error"' in html
    plain = alice_client.get(INDEX).content.decode()
    assert '<span class="kind">Mentions</span>' in plain and '<span class="kind">General</span>' in plain
