"""The bell's dropdown from the keyboard: Enter or Space opens it and moves the focus inside,
Escape closes it and gives the focus back to the bell."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import dropdown_of, unread_name


@pytest.mark.parametrize("key", ["Enter", " "], ids=["enter", "space"])
def test_key_opens_and_escape_closes(login, page, bell, alice, make_notifications, key):
    make_notifications(alice, 2)
    login(alice, "pw-alice")
    panel = dropdown_of(bell)
    bell.focus()
    expect(bell).to_be_focused()
    expect(bell).to_have_attribute("aria-expanded", "false")

    page.keyboard.press(key)
    expect(bell).to_have_attribute("aria-expanded", "true")
    heading = panel.get_by_role("heading", name="Notifications")
    expect(heading).to_be_focused()
    expect(panel.get_by_role("listitem")).to_have_count(2)

    page.keyboard.press("Escape")
    expect(bell).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()
    expect(bell).to_be_focused()
    expect(page).to_have_url("/inbox/")  # the bell's form (its no-JavaScript fallback) stayed put


def test_tab_reaches_the_bell(login, page, bell, alice):
    login(alice, "pw-alice")
    page.get_by_role("navigation", name="Main").get_by_role("link").last.focus()
    page.keyboard.press("Tab")
    expect(bell).to_be_focused()


def test_an_action_from_the_keyboard_keeps_the_focus_in_the_dropdown(
    login, page, bell, alice, make_notifications
):
    make_notifications(alice, 2, text="Note {i}")
    login(alice, "pw-alice")
    panel = dropdown_of(bell)
    bell.focus()
    page.keyboard.press("Enter")
    heading = panel.get_by_role("heading", name="Notifications")
    expect(heading).to_be_focused()

    page.keyboard.press("Tab")
    expect(panel.get_by_role("button", name="Mark all as read")).to_be_focused()
    page.keyboard.press("Tab")
    first_mark_read = panel.get_by_role("listitem").first.get_by_role("button", name="Mark as read")
    expect(first_mark_read).to_be_focused()
    page.keyboard.press("Enter")

    expect(panel.get_by_role("listitem")).to_have_count(1)
    expect(bell).to_have_accessible_name(unread_name(1))
    expect(heading).to_be_focused()
    expect(bell).to_have_attribute("aria-expanded", "true")

    page.keyboard.press("Escape")
    expect(bell).to_be_focused()
