from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse


def test_notifications_are_searchable_in_the_admin(client, alice, make_notifications):
    admin = User.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    make_notifications(alice, 2, text="Quarterly report {i}")
    make_notifications(alice, 1, text="Lunch")
    html = client.get(reverse("admin:inbox_notification_changelist"), {"q": "quarterly"}).content.decode()
    assert "Quarterly report 0" in html and "Quarterly report 1" in html and "Lunch" not in html
    html = client.get(reverse("admin:inbox_message_changelist"), {"q": "lunch"}).content.decode()
    assert "Lunch" in html and "Quarterly" not in html
