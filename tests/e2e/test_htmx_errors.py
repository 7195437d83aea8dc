"""An action done in place that fails (the notification was deleted or expired elsewhere, or the
server does not answer) says so in a short message and refreshes what was stale: never the
whole error page, with a second header and bell, inside the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from inbox.models import Message

from .conftest import dropdown_of, no_page_load, shows, unread_name

GONE = "That notification is gone: it was deleted or expired."


def message(page: Page):
    return page.get_by_role("alert")


def assert_one_page(page: Page) -> None:
    """One header and one bell: no error page was swapped into this one."""
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.locator("[data-bell]")).to_have_count(1)
    expect(page.get_by_role("heading", name="Not found")).to_have_count(0)


@pytest.fixture
def two_notes(alice, make_notifications):
    return {n.message.text: n for n in make_notifications(alice, 2, text="Note {i}")}


def gone_elsewhere(notification) -> None:
    """Deleted by another tab, an admin or purge: the page still shows it."""
    Message.objects.filter(pk=notification.message_id).delete()


def test_an_action_on_a_deleted_notification_on_the_dashboard(
    login, page, bell, browser_errors, alice, two_notes
):
    browser_errors.allow(r"status of 404 .*/inbox/\d+/read/")
    login(alice, "pw-alice")
    items = page.get_by_role("list", name="All notifications").get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(bell).to_have_accessible_name(unread_name(2))
    gone_elsewhere(two_notes["Note 1"])

    with no_page_load(page):
        items.filter(has_text="Note 1").get_by_role("button", name="Mark as read").click()
        expect(message(page)).to_have_text(GONE)
        expect(items).to_have_text([shows("Note 0")])  # the list was refreshed
        expect(bell).to_have_accessible_name(unread_name(1))  # and the badge
    assert_one_page(page)

    page.get_by_role("button", name="Dismiss").click()
    expect(message(page)).to_have_text("")
    expect(page.get_by_role("button", name="Dismiss")).to_be_hidden()


def test_an_action_on_an_expired_notification_in_the_dropdown(
    login, page, bell, browser_errors, alice, two_notes
):
    browser_errors.allow(r"status of 404 .*/inbox/\d+/delete/")
    login(alice, "pw-alice")
    bell.click()
    panel = dropdown_of(bell)
    items = panel.get_by_role("listitem")
    expect(items).to_have_count(2)
    Message.objects.filter(pk=two_notes["Note 0"].message_id).update(expires_at="2000-01-01T00:00Z")

    with no_page_load(page):
        items.filter(has_text="Note 0").get_by_role("button", name="Delete").click()
        expect(message(page)).to_have_text(GONE)
        expect(items).to_have_text([shows("Note 1")])
        expect(bell).to_have_accessible_name(unread_name(1))
        expect(bell).to_have_attribute("aria-expanded", "true")
    assert_one_page(page)
    expect(panel.get_by_role("heading", name="Notifications")).to_have_count(1)

    # The next action that works clears the message.
    items.filter(has_text="Note 1").get_by_role("button", name="Mark as read").click()
    expect(panel.get_by_text("You're all caught up.")).to_be_visible()
    expect(message(page)).to_have_text("")


def test_no_answer_from_the_server_says_so(login, page, bell, browser_errors, alice, two_notes):
    browser_errors.allow(r"net::ERR_FAILED")  # Chromium logs the failed request
    browser_errors.allow(r"htmx:error")  # and htmx logs the error it reports
    login(alice, "pw-alice")
    page.route("**/inbox/*/read/", lambda route: route.abort())
    items = page.get_by_role("list", name="All notifications").get_by_role("listitem")

    with no_page_load(page):
        items.filter(has_text="Note 1").get_by_role("button", name="Mark as read").click()
        expect(message(page)).to_have_text(
            "The server could not be reached. Check your connection and try again."
        )
        expect(items).to_have_count(2)
    assert_one_page(page)
    assert alice.notifications.unread().count() == 2
