from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from inbox.models import Notification

HTMX = {"HX-Request": "true"}


@pytest.fixture
def note(alice, make_notifications):
    (row,) = make_notifications(alice, 1, text="Deploy finished")
    return row


def action(name, note=None):
    return reverse(f"inbox:{name}", args=[note.pk] if note else [])


@pytest.mark.parametrize("name", ["mark_read", "mark_unread", "delete"])
def test_actions_need_post(alice_client, note, name):
    assert alice_client.get(action(name, note)).status_code == 405
    assert alice_client.get(action("mark_all_read")).status_code == 405


@pytest.mark.parametrize("name", ["mark_read", "mark_unread", "delete"])
def test_actions_need_a_csrf_token(alice, note, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(action(name, note)).status_code == 403
    assert client.post(action("mark_all_read")).status_code == 403
    assert Notification.objects.get().read_at is None


@pytest.mark.parametrize("name", ["mark_read", "mark_unread", "delete"])
def test_another_users_notification_is_a_404_and_untouched(client, bob, note, name):
    client.force_login(bob)
    assert client.post(action(name, note)).status_code == 404
    assert client.post(action(name, note), headers=HTMX).status_code == 404
    assert Notification.objects.filter(pk=note.pk, read_at__isnull=True).exists()


def test_an_expired_notification_is_a_404(alice_client, alice, make_notifications):
    (expired,) = make_notifications(alice, 1, expired=True)
    assert alice_client.post(action("mark_read", expired)).status_code == 404


def test_anonymous_actions_go_to_the_login_page(client, note):
    response = client.post(action("delete", note))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Notification.objects.exists()


def test_without_javascript_an_action_redirects_back(alice_client, note):
    response = alice_client.post(action("mark_read", note), {"next": "/inbox/?filter=unread"})
    assert response.status_code == 302 and response["Location"] == "/inbox/?filter=unread"
    assert Notification.objects.get().read_at is not None


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/", "//evil.example/", "", "foo", "inbox:index", "/\\evil.example"]
)
def test_an_unsafe_next_falls_back_to_the_dashboard(alice_client, note, unsafe):
    response = alice_client.post(action("mark_read", note), {"next": unsafe})
    assert response["Location"] == "/inbox/"


def test_mark_read_in_the_all_list_swaps_the_item_and_the_badge(
    alice_client, alice, note, make_notifications, django_assert_num_queries
):
    make_notifications(alice, 2)
    # session, user, the notification, the update, the badge count
    with django_assert_num_queries(5):
        response = alice_client.post(action("mark_read", note), {"place": "all"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="notification-{note.pk}"')
    assert "Mark as unread" in html and "Deploy finished" in html
    assert 'id="inbox-badge"' in html and 'hx-swap-oob="true"' in html and ", 2 unread" in html


def test_mark_read_in_the_unread_list_removes_the_item(alice_client, note):
    html = alice_client.post(action("mark_read", note), {"place": "unread"}, headers=HTMX).content.decode()
    assert html.lstrip().startswith('<span id="inbox-badge"') and ", 0 unread" in html


def test_mark_unread(alice_client, note):
    note.mark_read()
    html = alice_client.post(action("mark_unread", note), {"place": "all"}, headers=HTMX).content.decode()
    assert "Mark as read" in html and ", 1 unread" in html
    assert Notification.objects.get().read_at is None


def test_delete_removes_the_row_and_the_item(alice_client, note):
    html = alice_client.post(action("delete", note), {"place": "all"}, headers=HTMX).content.decode()
    assert not Notification.objects.exists()
    assert "Deploy finished" not in html and ", 0 unread" in html


def test_actions_in_the_dropdown_answer_with_the_dropdown(
    alice_client, alice, note, make_notifications, django_assert_num_queries
):
    make_notifications(alice, 9, text="More {i}")
    # session, user, the notification, the update, the dropdown's list, the badge count
    with django_assert_num_queries(6):
        response = alice_client.post(action("mark_read", note), {"place": "dropdown"}, headers=HTMX)
    html = response.content.decode()
    assert html.count('class="dropdown-item') == 8 and "Deploy finished" not in html
    assert ", 9 unread" in html


def test_mark_all_read(alice_client, alice, bob, make_notifications, django_assert_num_queries):
    make_notifications(alice, 30)
    make_notifications(bob, 2)
    # session, user, the update, the list, the badge count
    with django_assert_num_queries(5):
        response = alice_client.post(action("mark_all_read"), {"place": "unread"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="inbox-list"') and "all caught up" in html
    assert ", 0 unread" in html
    assert Notification.objects.filter(recipient=bob, read_at__isnull=True).count() == 2


def test_mark_all_read_from_the_dropdown(alice_client, alice, make_notifications):
    make_notifications(alice, 3)
    html = alice_client.post(action("mark_all_read"), {"place": "dropdown"}, headers=HTMX).content.decode()
    assert "all caught up" in html and ", 0 unread" in html


def test_an_unknown_place_is_a_400(alice_client, note):
    response = alice_client.post(action("mark_read", note), {"place": "nowhere"}, headers=HTMX)
    assert response.status_code == 400


def test_an_unknown_place_changes_nothing(alice_client, alice, note, make_notifications):
    make_notifications(alice, 2)
    alice_client.post(action("mark_all_read"), {"place": "nowhere"}, headers=HTMX)
    alice_client.post(action("delete", note), {"place": "nowhere"}, headers=HTMX)
    assert Notification.objects.filter(read_at__isnull=True).count() == 3
