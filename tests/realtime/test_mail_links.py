"""An email's links and open pages: "Mark as read" from an email publishes the same change as the
web action, so every open tab updates; a one-click unsubscribe changes a preference only, so it
publishes nothing and the inbox keeps arriving live."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from inbox.api import notify
from inbox.mail.tokens import read_token, unsubscribe_token
from inbox.models import Notification
from inbox.preferences import Preference
from inbox.realtime.models import RealtimeEvent

from .conftest import db, login_cookie, open_page, run

pytestmark = pytest.mark.django_db(transaction=True)


def published() -> list[dict]:
    return list(RealtimeEvent.objects.order_by("id").values_list("payload", flat=True))


def notification_of(user, text) -> Notification:
    return Notification.objects.select_related("message").get(recipient=user, message__text=text)


def read_from_email(user, notification) -> int:
    """What the email's "Mark as read" page does: GET it, then POST its form (CSRF checked, no login)."""
    browser = Client(enforce_csrf_checks=True)
    url = reverse("inbox:mail_read", args=[read_token(user.pk, notification.pk)])
    page = browser.get(url)
    return browser.post(url, {"csrfmiddlewaretoken": page.context["csrf_token"]}).status_code


def test_mark_read_from_an_email_publishes_what_the_web_action_does(users):
    alice = users["alice"]
    notify(alice, "From the email", kind="mention")
    notify(alice, "From the web", kind="mention")
    by_email, by_web = notification_of(alice, "From the email"), notification_of(alice, "From the web")
    RealtimeEvent.objects.all().delete()

    assert read_from_email(alice, by_email) == 200
    web = Client()
    web.force_login(alice)
    web.post(reverse("inbox:mark_read", args=[by_web.pk]), {"place": "all"})

    change = {"type": "changed", "user": alice.pk, "unread": [], "deleted": [], "all_read": False, "tab": ""}
    assert published() == [{**change, "read": [by_email.pk]}, {**change, "read": [by_web.pk]}]
    assert read_from_email(alice, by_email) == 200  # read already: nothing changes, nothing is sent
    assert len(published()) == 2


def test_mark_read_from_an_email_updates_the_open_pages(users):
    alice = users["alice"]
    notify(alice, "Disk almost full", kind="mention")
    n = notification_of(alice, "Disk almost full")
    cookie = login_cookie(alice)

    async def scenario():
        dashboard = await open_page(cookie, page="dashboard", shown=[n.pk], newest=n.cursor)
        unread_list = await open_page(cookie, page="dashboard", filter="unread", shown=[n.pk])
        dropdown = await open_page(cookie, page="other", dropdown=True)
        assert await db(read_from_email)(alice, n) == 200
        frame = await dashboard.receive_until(f'id="notification-{n.pk}"')
        assert "Mark as unread" in frame and "Notifications, 0 unread" in frame
        assert await dashboard.data_until(lambda d: True) == {"badge": 0, "read": [str(n.pk)]}
        gone = await unread_list.receive_until(f'id="notification-{n.pk}"')
        assert f'<li id="notification-{n.pk}" hx-swap-oob="delete"></li>' in gone
        assert "caught up" in await dropdown.receive_until("bell-panel")
        for page in (dashboard, unread_list, dropdown):
            await page.comm.disconnect()

    run(scenario)


def test_one_click_unsubscribe_publishes_nothing_and_the_inbox_stays_live(users):
    alice = users["alice"]
    url = reverse("inbox:mail_unsubscribe", args=[unsubscribe_token(alice.pk, "mention")])
    cookie = login_cookie(alice)

    async def scenario():
        page = await open_page(cookie, page="dashboard", kind="mention")
        provider = Client(enforce_csrf_checks=True)  # the mailbox provider: no cookie, no token
        response = await db(provider.post)(url, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert await db(published)() == []
        assert await page.nothing(0.2)
        choice = await db(Preference.objects.get)(user=alice, kind="mention", channel="email")
        assert choice.enabled is False
        # Only the email stopped: a new mention still reaches the open list at once.
        await db(notify)(alice, "Still in the inbox", kind="mention")
        assert "afterbegin" in await page.receive_until("Still in the inbox")
        await page.comm.disconnect()

    run(scenario)
