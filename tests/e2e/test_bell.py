"""The bell in the header: its badge, its dropdown and the actions inside it."""

from __future__ import annotations

import re

from django.core.management import call_command
from playwright.sync_api import expect

from inbox.api import notify

from .conftest import dropdown_of, no_page_load, shows, unread_name

BADGE_NUMBER = re.compile(r"^\d+\+?$")


def test_bell_names_and_shows_the_unread_count(login, bell, alice, make_notifications):
    make_notifications(alice, 3)
    make_notifications(alice, 1, expired=True)
    make_notifications(alice, 2, read=True)
    login(alice, "pw-alice")

    expect(bell).to_have_accessible_name(unread_name(3))
    expect(bell.get_by_text("3", exact=True)).to_be_visible()


def test_dropdown_lists_the_latest_unread(login, settings, bell, alice, make_notifications):
    settings.INBOX_DROPDOWN_SIZE = 8
    make_notifications(alice, 10, text="Unread {i}")
    make_notifications(alice, 1, read=True, text="Already read")
    login(alice, "pw-alice")

    expect(bell).to_have_attribute("aria-expanded", "false")
    bell.click()
    expect(bell).to_have_attribute("aria-expanded", "true")
    panel = dropdown_of(bell)
    expect(panel.get_by_role("heading", name="Notifications")).to_be_visible()
    items = panel.get_by_role("listitem")
    expect(items).to_have_count(8)
    expect(items).to_have_text([shows(f"Unread {i}") for i in range(9, 1, -1)])
    for item in items.all():
        expect(item.get_by_role("button", name="Mark as read")).to_be_visible()
        expect(item.get_by_role("button", name="Delete")).to_be_visible()
    expect(panel.get_by_role("button", name="Mark all as read")).to_be_visible()
    expect(panel.get_by_role("link", name="See all notifications")).to_have_attribute("href", "/inbox/")
    expect(panel.get_by_text("Already read")).to_have_count(0)

    bell.click()
    expect(bell).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()


def open_dropdown(page, bell):
    bell.click()
    panel = dropdown_of(bell)
    expect(panel.get_by_role("heading", name="Notifications")).to_be_focused()
    return panel


def test_mark_as_read_and_delete_in_the_dropdown_without_a_page_load(
    login, page, bell, alice, make_notifications
):
    make_notifications(alice, 3, text="Note {i}")
    login(alice, "pw-alice")
    with no_page_load(page):
        panel = open_dropdown(page, bell)
        items = panel.get_by_role("listitem")
        expect(items).to_have_count(3)

        items.filter(has_text="Note 1").get_by_role("button", name="Mark as read").click()
        expect(items).to_have_text([shows("Note 2"), shows("Note 0")])
        expect(bell).to_have_accessible_name(unread_name(2))
        expect(bell.get_by_text("2", exact=True)).to_be_visible()

        items.filter(has_text="Note 2").get_by_role("button", name="Delete").click()
        expect(items).to_have_text([shows("Note 0")])
        expect(bell).to_have_accessible_name(unread_name(1))
        expect(bell.get_by_text("1", exact=True)).to_be_visible()
        expect(bell).to_have_attribute("aria-expanded", "true")

    assert alice.notifications.filter(message__text="Note 2").exists() is False
    assert alice.notifications.get(message__text="Note 1").read_at is not None


def test_mark_all_as_read_zeroes_the_badge(login, page, bell, alice, make_notifications):
    make_notifications(alice, 5)
    login(alice, "pw-alice")
    with no_page_load(page):
        panel = open_dropdown(page, bell)
        panel.get_by_role("button", name="Mark all as read").click()
        expect(panel.get_by_text("You're all caught up.")).to_be_visible()
        expect(bell).to_have_accessible_name(unread_name(0))
        expect(bell.get_by_text(BADGE_NUMBER)).to_have_count(0)
        expect(panel.get_by_role("button", name="Mark all as read")).to_have_count(0)


def test_notify_appears_in_the_badge_within_one_poll(login, page, bell, alice, make_notifications):
    make_notifications(alice, 1)
    login(alice, "pw-alice")
    expect(bell).to_have_accessible_name(unread_name(1))
    with no_page_load(page):
        notify(alice, "Deploy at 17:00")
        expect(bell).to_have_accessible_name(unread_name(2), timeout=3000)
        expect(bell.get_by_text("2", exact=True)).to_be_visible()


def test_send_notification_command_appears_within_one_poll(login, page, bell, alice):
    login(alice, "pw-alice")
    expect(bell).to_have_accessible_name(unread_name(0))
    expect(bell.get_by_text(BADGE_NUMBER)).to_have_count(0)
    with no_page_load(page):
        call_command("send_notification", "From the command line", "--user", "alice", stdout=None)
        expect(bell).to_have_accessible_name(unread_name(1), timeout=3000)
        expect(bell.get_by_text("1", exact=True)).to_be_visible()

    panel = open_dropdown(page, bell)
    expect(panel.get_by_role("listitem")).to_have_text([shows("From the command line")])
