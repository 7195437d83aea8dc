"""The dashboard at /inbox/: the Unread / All filter, the actions on each item, paging."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import no_page_load, shows, unread_name


@pytest.fixture
def dashboard(login, page, alice, make_notifications):
    """Alice on her dashboard with two unread and two read notifications (newest last here);
    at the end of the test, no document may have loaded: everything swapped in place."""
    make_notifications(alice, 1, read=True, text="Old read")
    make_notifications(alice, 1, text="Old unread")
    make_notifications(alice, 1, read=True, text="New read")
    make_notifications(alice, 1, text="New unread")
    login(alice, "pw-alice")
    with no_page_load(page):
        yield page


def all_items(page):
    return page.get_by_role("list", name="All notifications").get_by_role("listitem")


def unread_items(page):
    return page.get_by_role("list", name="Unread notifications").get_by_role("listitem")


def test_unread_and_all_filters(dashboard):
    page = dashboard
    expect(all_items(page)).to_have_text(
        [shows(t) for t in ("New unread", "New read", "Old unread", "Old read")]
    )

    page.get_by_role("link", name="Unread", exact=True).click()
    expect(unread_items(page)).to_have_text([shows("New unread"), shows("Old unread")])
    expect(page.get_by_role("link", name="Unread", exact=True)).to_have_attribute("aria-current", "page")
    expect(page).to_have_url("/inbox/?filter=unread")

    page.get_by_role("link", name="All", exact=True).click()
    expect(all_items(page)).to_have_count(4)
    expect(page.get_by_role("link", name="All", exact=True)).to_have_attribute("aria-current", "page")
    expect(page).to_have_url("/inbox/?filter=all")


def test_mark_read_and_unread_in_place(dashboard, bell, alice):
    page = dashboard
    expect(bell).to_have_accessible_name(unread_name(2))
    item = all_items(page).filter(has_text="New unread")
    expect(item.get_by_text("Unread", exact=True)).to_be_visible()

    item.get_by_role("button", name="Mark as read").click()
    expect(item.get_by_role("button", name="Mark as unread")).to_be_visible()
    expect(item.get_by_text("Unread", exact=True)).to_have_count(0)
    expect(bell).to_have_accessible_name(unread_name(1))
    expect(bell.get_by_text("1", exact=True)).to_be_visible()
    expect(all_items(page)).to_have_count(4)

    item.get_by_role("button", name="Mark as unread").click()
    expect(item.get_by_role("button", name="Mark as read")).to_be_visible()
    expect(item.get_by_text("Unread", exact=True)).to_be_visible()
    expect(bell).to_have_accessible_name(unread_name(2))
    assert alice.notifications.unread().count() == 2


def test_mark_as_read_under_unread_removes_the_item(dashboard, bell):
    page = dashboard
    page.get_by_role("link", name="Unread", exact=True).click()
    expect(unread_items(page)).to_have_count(2)

    unread_items(page).filter(has_text="Old unread").get_by_role("button", name="Mark as read").click()
    expect(unread_items(page)).to_have_text([shows("New unread")])
    expect(bell).to_have_accessible_name(unread_name(1))


def test_delete_in_place(dashboard, bell, alice):
    page = dashboard
    all_items(page).filter(has_text="New unread").get_by_role("button", name="Delete").click()
    expect(all_items(page)).to_have_text([shows("New read"), shows("Old unread"), shows("Old read")])
    expect(bell).to_have_accessible_name(unread_name(1))

    all_items(page).filter(has_text="New read").get_by_role("button", name="Delete").click()
    expect(all_items(page)).to_have_text([shows("Old unread"), shows("Old read")])
    expect(bell).to_have_accessible_name(unread_name(1))
    assert list(alice.notifications.values_list("message__text", flat=True).order_by("id")) == [
        "Old read",
        "Old unread",
    ]


def test_mark_all_as_read_on_the_dashboard(dashboard, bell):
    page = dashboard
    page.get_by_role("main").get_by_role("button", name="Mark all as read").click()
    expect(all_items(page).get_by_role("button", name="Mark as unread")).to_have_count(4)
    expect(bell).to_have_accessible_name(unread_name(0))


def test_load_more_pages_newest_first(login, page, settings, alice, make_notifications):
    settings.INBOX_PAGE_SIZE = 20
    make_notifications(alice, 45, text="Note {i}")
    login(alice, "pw-alice")
    items = all_items(page).filter(has_not=page.get_by_role("link", name="Load more"))
    load_more = page.get_by_role("link", name="Load more")
    expect(items).to_have_count(20)

    with no_page_load(page):
        load_more.click()
        expect(items).to_have_count(40)
        expect(load_more).to_have_count(1)
        load_more.click()
        expect(items).to_have_count(45)
        expect(load_more).to_have_count(0)
    expect(items).to_have_text([shows(f"Note {i}") for i in range(44, -1, -1)])
