"""Every in-place dashboard action keeps the keyboard focus where the person is (WCAG 2.4.3),
instead of dropping it to <body> when the swap replaces the focused control: the same control
again, the next item after a deletion, the first loaded item after "Load more"."""

from __future__ import annotations

from playwright.sync_api import expect


def press(control) -> None:
    control.focus()
    control.press("Enter")


def test_focus_survives_every_in_place_action(login, page, settings, alice, make_notifications):
    settings.INBOX_PAGE_SIZE = 3
    make_notifications(alice, 5, text="Note {i}")
    login(alice, "pw-alice")
    items = page.get_by_role("list", name="All notifications").get_by_role("listitem")
    note4 = items.filter(has_text="Note 4")

    press(note4.get_by_role("button", name="Mark as read"))
    expect(note4.get_by_role("button", name="Mark as unread")).to_be_focused()
    press(note4.get_by_role("button", name="Mark as unread"))
    expect(note4.get_by_role("button", name="Mark as read")).to_be_focused()

    press(note4.get_by_role("button", name="Delete"))
    expect(items.filter(has_text="Note 4")).to_have_count(0)
    expect(items.filter(has_text="Note 3")).to_be_focused()  # the next item

    press(page.get_by_role("link", name="Load more"))
    expect(items.filter(has_text="Note 1")).to_be_focused()  # the first item it loaded

    press(page.get_by_role("button", name="Mark all as read"))
    expect(page.get_by_role("button", name="Mark all as read")).to_be_focused()

    press(page.get_by_role("link", name="Unread"))
    expect(page.get_by_role("link", name="Unread")).to_be_focused()
    # Swapped in (focus stays on the link before the list is replaced, too): the filters form
    # below then carries this tab's filter.
    expect(page.get_by_role("link", name="Unread")).to_have_attribute("aria-current", "page")
    press(page.get_by_role("link", name="All"))
    expect(page.get_by_role("link", name="All")).to_be_focused()
    expect(page.get_by_role("link", name="All")).to_have_attribute("aria-current", "page")

    page.get_by_label("Level").select_option("warning")
    press(page.get_by_role("button", name="Show"))
    expect(page.get_by_role("button", name="Show")).to_be_focused()
    expect(page.get_by_text("No notifications of this kind and level.")).to_be_visible()
