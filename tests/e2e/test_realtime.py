"""Real time in Chromium, served by uvicorn (config.asgi) in a child process: a notification
sent from the command line reaches every open tab of its recipient at once, and a change made in
one tab shows in the user's other tabs; nobody else's tab sees any of it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from inbox.api import notify
from inbox.models import Notification

from .asgi_server import manage
from .conftest import dropdown_of, shows, unread_name
from .realtime_helpers import tab

SHOTS = "/tmp/shots"


def bell_of(page):
    return page.get_by_role("button", name=re.compile("^Notifications"))


def dashboard_items(page):
    return page.get_by_role("list", name=re.compile("notifications$")).get_by_role("listitem")


def open_dropdown(page):
    bell_of(page).click()
    panel = dropdown_of(bell_of(page))
    expect(panel.get_by_role("heading", name="Notifications")).to_be_focused()
    return panel


def test_a_notification_sent_from_the_command_line_shows_in_every_tab_of_its_recipient(
    asgi_context, alice, bob, make_notifications
):
    make_notifications(alice, 20, text="Earlier note {i}")
    make_notifications(bob, 1, text="Bob's own note")
    alices = asgi_context()
    first = tab(alices, login=("alice", "pw-alice"))
    second = tab(alices)
    phone = tab(asgi_context(viewport={"width": 320, "height": 640}), login=("alice", "pw-alice"))
    bobs = tab(asgi_context(), login=("bob", "pw-bob"))

    # The first tab is scrolled down with a button focused; the second and the phone have the
    # dropdown open.
    first.mouse.wheel(0, 400)
    button = (
        dashboard_items(first).filter(has_text="Earlier note 10").get_by_role("button", name="Mark as read")
    )
    button.focus()
    first.wait_for_function("() => window.scrollY > 0")
    top_before = button.evaluate("(element) => element.getBoundingClientRect().top")
    panels = [open_dropdown(second), open_dropdown(phone)]
    # On the phone, a button inside the dropdown has the focus: the new item morphs in above it.
    in_dropdown = panels[1].get_by_role("listitem").first.get_by_role("button", name="Mark as read")
    in_dropdown.focus()

    manage("send_notification", "Server maintenance at noon", "--user", "alice")

    for page in (first, second, phone):
        expect(bell_of(page)).to_have_accessible_name(unread_name(21))
        expect(dashboard_items(page).first).to_have_text(shows("Server maintenance at noon"))
        expect(page.get_by_role("status").filter(has_text="New notification")).to_have_text(
            "New notification: Server maintenance at noon"
        )
    for panel in panels:
        expect(panel.get_by_role("listitem").first).to_have_text(shows("Server maintenance at noon"))
    expect(panels[0].get_by_role("heading", name="Notifications")).to_be_focused()
    expect(
        panels[1].get_by_role("listitem").nth(1).get_by_role("button", name="Mark as read")
    ).to_be_focused()

    # Nothing moved under the person reading the first tab.
    expect(button).to_be_focused()
    assert abs(button.evaluate("(element) => element.getBoundingClientRect().top") - top_before) < 1
    width = phone.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the phone's page is {width[0]} px wide in a {width[1]} px window"
    first.screenshot(path=f"{SHOTS}/realtime-first-tab.png")
    phone.screenshot(path=f"{SHOTS}/realtime-phone-dropdown.png")

    # Bob's tab saw nothing of it.
    notify([alice], "Second note for Alice")  # from this process: the next event is Alice's too
    expect(dashboard_items(first).first).to_have_text(shows("Second note for Alice"))
    expect(bell_of(bobs)).to_have_accessible_name(unread_name(1))
    expect(bobs.get_by_text("Server maintenance at noon")).to_have_count(0)
    expect(bobs.get_by_text("Second note for Alice")).to_have_count(0)
    expect(dashboard_items(bobs)).to_have_count(1)


def test_changes_in_one_tab_show_in_the_other(asgi_context, alice, make_notifications):
    for text in ("Alpha", "Bravo", "Charlie"):
        make_notifications(alice, 1, text=text)
    context = asgi_context()
    acting = tab(context, login=("alice", "pw-alice"))
    watching = tab(context)
    panel = open_dropdown(watching)
    items = dashboard_items(watching)
    expect(panel.get_by_role("listitem")).to_have_count(3)

    dashboard_items(acting).filter(has_text="Charlie").get_by_role("button", name="Mark as read").click()
    expect(bell_of(watching)).to_have_accessible_name(unread_name(2))
    charlie = items.filter(has_text="Charlie")
    expect(charlie.get_by_role("button", name="Mark as unread")).to_be_visible()
    expect(charlie.get_by_text("Unread", exact=True)).to_have_count(0)
    expect(panel.get_by_text("Charlie")).to_have_count(0)

    dashboard_items(acting).filter(has_text="Charlie").get_by_role("button", name="Mark as unread").click()
    expect(bell_of(watching)).to_have_accessible_name(unread_name(3))
    expect(charlie.get_by_role("button", name="Mark as read")).to_be_visible()

    dashboard_items(acting).filter(has_text="Bravo").get_by_role("button", name="Delete").click()
    expect(items.filter(has_text="Bravo")).to_have_count(0)
    expect(panel.get_by_text("Bravo")).to_have_count(0)
    expect(bell_of(watching)).to_have_accessible_name(unread_name(2))

    acting.get_by_role("button", name="Mark all as read").click()
    expect(bell_of(watching)).to_have_accessible_name(unread_name(0))
    expect(items.get_by_role("button", name="Mark as unread")).to_have_count(2)
    expect(panel.get_by_text("You're all caught up.")).to_be_visible()
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 0
    watching.screenshot(path=f"{SHOTS}/realtime-other-tab-after-mark-all.png")


def test_an_unread_list_emptied_elsewhere_says_so(asgi_context, alice, make_notifications):
    make_notifications(alice, 2, text="Note {i}")
    context = asgi_context()
    acting = tab(context, login=("alice", "pw-alice"))
    watching = tab(context, "/inbox/?filter=unread")
    expect(dashboard_items(watching)).to_have_count(2)

    dashboard_items(acting).first.get_by_role("button", name="Mark as read").click()
    expect(dashboard_items(watching)).to_have_count(1)
    expect(watching.get_by_text("You're all caught up.")).to_have_count(0)
    acting.get_by_role("main").get_by_role("button", name="Mark all as read").click()
    expect(dashboard_items(watching)).to_have_text(["No unread notifications. You're all caught up."])

    notify([alice], "A new one")  # and the line goes when something new comes in
    expect(dashboard_items(watching)).to_have_count(1)
    expect(dashboard_items(watching).first).to_have_text(shows("A new one"))


def test_a_dashboard_filtered_by_kind_gets_only_that_kind_live(asgi_context, alice, make_notifications):
    make_notifications(alice, 1, text="An older general note")
    context = asgi_context()
    switched = tab(context, login=("alice", "pw-alice"))
    # One tab picks the kind in the page (the swap sends a "state"); the other opens it (a "hello").
    switched.get_by_label("Kind").select_option(label="Mentions")
    switched.get_by_role("button", name="Show").click()
    expect(switched.get_by_text("No notifications of this kind and level.")).to_be_visible()
    opened = tab(context, "/inbox/?kind=mention")

    notify([alice], "Build 12 passed", kind="build.finished")
    notify([alice], "Bob mentioned you", kind="mention")
    for page in (switched, opened):
        expect(bell_of(page)).to_have_accessible_name(unread_name(3))
        expect(dashboard_items(page)).to_have_count(1)
        expect(dashboard_items(page).first).to_have_text(shows("Bob mentioned you"))
        expect(dashboard_items(page).first).to_have_text(shows("Mentions"))
        expect(page.get_by_text("Build 12 passed")).to_have_count(0)
