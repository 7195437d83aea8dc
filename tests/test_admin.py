from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.api import notify
from inbox.models import Message


def test_notifications_are_searchable_in_the_admin(admin_client, alice, make_notifications):
    make_notifications(alice, 2, text="Quarterly report {i}")
    make_notifications(alice, 1, text="Lunch")
    changelist = reverse("admin:inbox_notification_changelist")
    html = admin_client.get(changelist, {"q": "quarterly"}).content.decode()
    assert "Quarterly report 0" in html and "Quarterly report 1" in html and "Lunch" not in html
    html = admin_client.get(reverse("admin:inbox_message_changelist"), {"q": "lunch"}).content.decode()
    assert "Lunch" in html and "Quarterly" not in html


def message_data(**changes) -> dict:
    """The admin's add/change form as a browser posts it (dates as the split widget sends them)."""
    now = timezone.localtime()
    data = {
        "text": "Maintenance tonight",
        "url": "/inbox/",
        "level": "info",
        "actor": "",
        "created_0": now.strftime("%Y-%m-%d"),
        "created_1": now.strftime("%H:%M:%S"),
        "expires_at_0": "",
        "expires_at_1": "",
    }
    return {**data, **changes}


def test_the_admin_adds_a_valid_message(admin_client):
    tomorrow = timezone.localtime() + timedelta(days=1)
    data = message_data(expires_at_0=tomorrow.strftime("%Y-%m-%d"), expires_at_1="12:00:00")
    response = admin_client.post(reverse("admin:inbox_message_add"), data)
    assert response.status_code == 302
    assert Message.objects.get().url == "/inbox/"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"url": "javascript:alert(1)"}, "The link must be an http:// or https:// URL"),
        ({"url": "//evil.example/"}, "The link must be an http:// or https:// URL"),
        ({"text": "x" * 2001}, "at most 2000 characters"),
        ({"text": "   "}, "This field is required."),
        ({"expires_at_0": "9999-12-31", "expires_at_1": "23:59:59"}, "too far ahead"),
        ({"expires_at_0": "2000-01-01", "expires_at_1": "00:00:00"}, "in the past"),
    ],
)
def test_the_admin_refuses_what_the_api_refuses(admin_client, changes, error):
    response = admin_client.post(reverse("admin:inbox_message_add"), message_data(**changes))
    assert response.status_code == 200  # the form again, with the error
    assert error in response.content.decode()
    assert not Message.objects.exists()


def test_the_admin_refuses_a_bad_link_when_editing(admin_client, alice):
    message = notify(alice, "Hello", url="/inbox/").message
    url = reverse("admin:inbox_message_change", args=[message.pk])
    response = admin_client.post(url, message_data(text="Hello", url="javascript:alert(1)"))
    assert "The link must be an http:// or https:// URL" in response.content.decode()
    message.refresh_from_db()
    assert message.url == "/inbox/"


def test_an_old_message_whose_expiry_passed_can_still_be_edited(admin_client, alice):
    message = notify(alice, "Old", expires_at=timezone.now() + timedelta(hours=1)).message
    past = timezone.now() - timedelta(days=3)
    Message.objects.filter(pk=message.pk).update(expires_at=past)
    shown = timezone.localtime(past)
    data = message_data(
        text="Old, corrected",
        expires_at_0=shown.strftime("%Y-%m-%d"),
        expires_at_1=shown.strftime("%H:%M:%S"),
    )
    response = admin_client.post(reverse("admin:inbox_message_change", args=[message.pk]), data)
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.text == "Old, corrected" and message.expires_at == past
    # Changing the expiry to another past moment is still refused.
    data["expires_at_1"] = "00:00:01"
    response = admin_client.post(reverse("admin:inbox_message_change", args=[message.pk]), data)
    assert "in the past" in response.content.decode()


def test_the_admin_takes_a_registered_kind_and_refuses_others(admin_client):
    response = admin_client.post(reverse("admin:inbox_message_add"), message_data(kind="mention"))
    assert response.status_code == 302 and Message.objects.get().kind == "mention"
    response = admin_client.post(reverse("admin:inbox_message_add"), message_data(kind="nope", text="Other"))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Message.objects.count() == 1
