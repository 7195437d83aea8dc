"""Phones: from 320 px wide, the dropdown fits the screen and its list scrolls, every link of
the navigation can be reached, and no page scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import dropdown_of, log_in, unread_name

PHONES = [
    pytest.param({"width": 320, "height": 568}, id="320px"),
    pytest.param({"width": 390, "height": 844}, id="390px"),
]


@pytest.fixture(params=PHONES)
def phone(request, page: Page) -> Page:
    page.set_viewport_size(request.param)
    return page


def assert_on_screen(page: Page, element: Locator) -> None:
    box = element.bounding_box()
    size = page.viewport_size
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"] + 0.5, (box, size)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (box, size)


def assert_no_sideways_scroll(page: Page) -> None:
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} is {width} px wide in a {inner} px window"


def test_the_dropdown_fits_and_its_long_list_scrolls(phone, settings, bell, staff, make_notifications):
    page = phone
    settings.INBOX_DROPDOWN_SIZE = 25
    make_notifications(staff, 25, text="A notification long enough to wrap on a phone, number {i}")
    log_in(page, "sam", "pw-sam")

    bell.click()
    panel = dropdown_of(bell)
    items = panel.get_by_role("listitem")
    expect(items).to_have_count(25)
    assert_on_screen(page, panel)
    assert_no_sideways_scroll(page)

    scroller = panel.get_by_role("list")
    assert scroller.evaluate("list => list.scrollHeight > list.clientHeight"), "the long list does not scroll"
    oldest = items.last
    oldest.get_by_role("button", name="Mark as read").scroll_into_view_if_needed()
    assert scroller.evaluate("list => list.scrollTop > 0")
    assert_on_screen(page, oldest.get_by_role("button", name="Mark as read"))
    oldest.get_by_role("button", name="Mark as read").click()
    expect(bell).to_have_accessible_name(unread_name(24))
    assert_on_screen(page, panel)


def test_every_link_of_the_navigation_can_be_reached(phone, staff, browser_errors):
    browser_errors.allow(r"/favicon\.ico")  # the admin's pages name no icon
    page = phone
    log_in(page, "sam", "pw-sam")
    nav = page.get_by_role("navigation", name="Main")
    destinations = {
        "Send": ("heading", "Send a notification"),
        "Preferences": ("heading", "Preferences"),
        "Dashboard": ("heading", "Notifications"),
        "Admin": ("heading", "Site administration"),
    }
    for name, (role, heading) in destinations.items():
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        assert_on_screen(page, link)
        link.click()
        expect(page.get_by_role(role, name=heading, level=1)).to_be_visible()
        page.go_back()
        expect(nav).to_be_visible()
        assert_no_sideways_scroll(page)

    log_out = page.get_by_role("button", name="Log out")
    assert_on_screen(page, log_out)
    log_out.click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_no_page_scrolls_sideways(phone, staff, make_notifications, browser_errors):
    browser_errors.allow(r"status of 422 .*/inbox/send/")
    page = phone
    make_notifications(staff, 3, text="https://example.com/a/very/long/address/without/any/spaces/{i}" * 3)
    page.goto("/accounts/login/")
    assert_no_sideways_scroll(page)
    log_in(page, "sam", "pw-sam")
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="Unread", exact=True).click()
    expect(page).to_have_url("/inbox/?filter=unread")
    assert_no_sideways_scroll(page)

    page.goto("/inbox/send/")
    assert_no_sideways_scroll(page)
    page.get_by_role("button", name="Send").click()  # refused: the errors show inline
    expect(page.get_by_text("This field is required.")).to_be_visible()
    assert_no_sideways_scroll(page)

    page.goto("/inbox/preferences/")
    expect(page.get_by_role("heading", name="Preferences", level=1)).to_be_visible()
    assert_no_sideways_scroll(page)
    # The grid of kinds x channels fits too: on a phone each kind is a card, its channels named.
    grid = page.locator(".preference-grid")
    fits = grid.evaluate("grid => grid.scrollWidth <= grid.parentElement.clientWidth")
    assert fits, "the grid scrolls sideways"
    push = page.get_by_label("General: Push")
    push.scroll_into_view_if_needed()
    assert_on_screen(page, push)
    expect(page.locator(".preference-grid .cell-name").first).to_be_visible()  # "In the inbox"
