"""A tour of every page (and the open dropdown) as staff: the browser_errors fixture fails the
test on any console error or page error, such as a Content Security Policy violation."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import dropdown_of


def test_no_page_logs_an_error(page, bell, staff, make_notifications):
    make_notifications(staff, 3)
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("pw-sam")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("list", name="All notifications")).to_be_visible()

    page.goto("/inbox/?filter=unread")
    expect(page.get_by_role("list", name="Unread notifications")).to_be_visible()
    page.get_by_role("link", name="All", exact=True).click()
    expect(page.get_by_role("list", name="All notifications")).to_be_visible()
    with page.expect_response("**/inbox/badge/"):  # one badge poll, answered and swapped
        pass

    bell.click()
    expect(dropdown_of(bell).get_by_role("button", name="Mark all as read")).to_be_visible()
    expect(dropdown_of(bell).get_by_role("listitem")).to_have_count(3)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Send").click()
    expect(page.get_by_role("heading", name="Send a notification")).to_be_visible()
    bell.click()
    expect(bell).to_have_attribute("aria-expanded", "true")
    expect(dropdown_of(bell).get_by_role("heading", name="Notifications")).to_be_focused()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Preferences").click()
    expect(page.get_by_role("heading", name="Preferences", level=1)).to_be_visible()
    with page.expect_response("**/inbox/badge/"):
        pass
