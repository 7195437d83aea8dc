from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from inbox.models import Message, Notification

SEND = reverse("inbox:send")
HTMX = {"HX-Request": "true"}


def test_anonymous_users_go_to_the_login_page(client):
    response = client.get(SEND)
    assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next={SEND}"


def test_non_staff_get_403(alice_client):
    assert alice_client.get(SEND).status_code == 403
    assert alice_client.post(SEND, {"message": "Hi", "all_users": "on"}).status_code == 403
    assert not Message.objects.exists()


def test_the_form_page(staff_client, team):
    html = staff_client.get(SEND).content.decode()
    assert '<form id="send-form"' in html and "team" in html and 'type="datetime-local"' in html


def test_send_to_a_group_without_javascript(staff_client, team, staff):
    response = staff_client.post(SEND, {"message": "Team lunch", "group": team.pk, "level": "success"})
    assert response.status_code == 302 and response["Location"] == SEND
    assert "Sent to 2 recipients." in staff_client.get(SEND).content.decode()
    message = Message.objects.get()
    assert (message.text, message.level, message.actor) == ("Team lunch", "success", staff)
    assert Notification.objects.count() == 2


def test_send_with_htmx_answers_with_a_fresh_form_and_the_result(staff_client, alice, bob):
    next_year = timezone.now().year + 1
    response = staff_client.post(
        SEND,
        {
            "message": "Hello",
            "usernames": "alice, bob",
            "level": "info",
            "url": "/inbox/",
            "expires_at": f"{next_year}-01-01T10:00",
        },
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="send-form"') and "Sent to 2 recipients." in html
    assert "Hello</textarea>" not in html  # the form is empty again
    assert Message.objects.get().expires_at.isoformat() == f"{next_year}-01-01T10:00:00+00:00"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"message": "", "all_users": "on"}, "This field is required."),
        ({"message": "Hi"}, "Choose the recipients"),
        ({"message": "Hi", "usernames": "alice ghost zed"}, "Unknown users: ghost, zed."),
        ({"message": "Hi", "all_users": "on", "url": "javascript:alert(1)"}, "http"),
        ({"message": "Hi", "all_users": "on", "level": "loud"}, "Select a valid choice"),
        ({"message": "Hi", "all_users": "on", "expires_at": "2000-01-01T00:00"}, "in the past"),
        ({"message": "Hi", "all_users": "on", "expires_at": "soon"}, "Enter a valid date/time."),
        # Past the year 9999 in UTC: was a 500 on SQLite, and saved on PostgreSQL.
        ({"message": "Hi", "all_users": "on", "expires_at": "9999-12-31T23:59:59-05:00"}, "too far ahead"),
        ({"message": "Hi", "all_users": "on", "expires_at": "9999-12-31T23:59"}, "too far ahead"),
        ({"message": "Hi", "all_users": "on", "expires_at": "2999-01-01T10:00"}, "at most 3650 days"),
        ({"message": "Hi", "group": "999"}, "Select a valid choice"),
    ],
)
def test_errors_show_inline_and_nothing_is_sent(staff_client, alice, data, error):
    data = {"level": "info", **data}
    response = staff_client.post(SEND, data, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="send-form"') and error in html
    assert not Message.objects.exists()
    # The same errors on the full page without JavaScript.
    full = staff_client.post(SEND, data)
    assert full.status_code == 422 and "<html" in full.content.decode()


def test_send_needs_a_csrf_token(staff, alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(SEND, {"message": "Hi", "all_users": "on", "level": "info"}).status_code == 403
    assert not Message.objects.exists()


def test_a_far_expiry_in_a_western_site_time_zone_is_a_422(staff_client, alice, settings):
    settings.TIME_ZONE = "America/New_York"  # 9999-12-31T23:59 there is the year 10000 in UTC
    response = staff_client.post(
        SEND, {"message": "Hi", "all_users": "on", "level": "info", "expires_at": "9999-12-31T23:59"}
    )
    assert response.status_code == 422 and "too far ahead" in response.content.decode()
    assert not Message.objects.exists()


def test_a_message_at_the_furthest_expiry_shows_everywhere(client, staff_client, alice):
    furthest = timezone.now() + timedelta(days=3650) - timedelta(minutes=1)
    data = {"message": "Far", "usernames": "alice", "level": "info", "expires_at": furthest.isoformat()}
    assert staff_client.post(SEND, data).status_code == 302
    client.force_login(alice)
    assert "Far" in client.get(reverse("inbox:index")).content.decode()
    assert "Far" in client.get(reverse("inbox:dropdown")).content.decode()
    assert client.post(reverse("inbox:mark_all_read")).status_code == 302
    client.force_login(User.objects.create_superuser("root", password="pw"))
    assert "Far" in client.get(reverse("admin:inbox_message_changelist")).content.decode()
