"""The preferences grid on /inbox/preferences/: saved in place with htmx, and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.preferences import DigestSetting, Preference

from .conftest import log_in, no_page_load


@pytest.fixture
def grid_page(login, page, alice):
    login(alice, "pw-alice")
    page.goto("/inbox/preferences/")
    expect(page.get_by_role("table")).to_be_visible()
    return page


def test_the_grid_saves_in_place(grid_page, alice):
    page = grid_page
    grid = page.get_by_role("table")
    expect(grid.get_by_role("columnheader")).to_have_text(
        ["Kind", "In the inbox", "Push", "Email", "Email digest"]
    )
    mention_email = grid.get_by_role("checkbox", name="Mentions: Email", exact=True)
    builds_push = grid.get_by_role("checkbox", name="Builds: Push")
    expect(mention_email).to_be_checked()
    expect(builds_push).not_to_be_checked()

    with no_page_load(page):
        mention_email.uncheck()
        builds_push.check()
        page.get_by_label("How often").select_option("daily")
        page.get_by_label("Time of day").select_option(label="07:00")
        page.get_by_label("Time zone").fill("Europe/Paris")
        page.get_by_role("button", name="Save preferences").click()
        expect(page.get_by_role("main").get_by_role("status")).to_have_text("Preferences saved.")
        expect(page.get_by_role("main").get_by_role("status")).to_be_focused()

    assert set(Preference.objects.filter(user=alice).values_list("kind", "channel", "enabled")) == {
        ("mention", "email", False),
        ("build.finished", "push", True),
    }
    setting = DigestSetting.objects.get(user=alice)
    assert (setting.frequency, setting.hour, setting.timezone) == ("daily", 7, "Europe/Paris")
    page.reload()
    expect(page.get_by_role("checkbox", name="Mentions: Email", exact=True)).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Builds: Push")).to_be_checked()


def test_locked_cells_are_disabled_and_say_why(grid_page):
    grid = grid_page.get_by_role("table")
    security_email = grid.get_by_role("checkbox", name="Security alerts: Email", exact=True)
    expect(security_email).to_be_disabled()
    expect(security_email).to_be_checked()
    reason = (
        "Always on: In the inbox, Push, Email. Never: Email digest. "
        "Security alerts must reach you, so you cannot change how: only staff send them."
    )
    expect(security_email).to_have_accessible_description(reason)
    # The disabled checkboxes take no focus; the reason does, so the keyboard reaches it.
    grid.get_by_role("checkbox", name="Mentions: Email digest").focus()
    for _ in range(20):
        grid_page.keyboard.press("Tab")
        if grid_page.evaluate("document.activeElement.id") == "locked-security":
            break
    expect(grid_page.locator("#locked-security")).to_be_focused()
    expect(grid_page.locator("#locked-security")).to_have_text(reason)
    expect(grid.get_by_role("checkbox", name="Announcements: In the inbox")).to_be_disabled()
    expect(grid.get_by_role("checkbox", name="Announcements: Push")).to_be_enabled()


def test_a_bad_time_zone_is_refused_in_place(grid_page, browser_errors, alice):
    browser_errors.allow(r"status of 422 .*/inbox/preferences/")
    page = grid_page
    with no_page_load(page):
        page.get_by_role("checkbox", name="Mentions: Push").uncheck()
        page.get_by_label("Time zone").fill("Mars/Olympus")
        page.get_by_role("button", name="Save preferences").click()
        expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_visible()
        expect(page.get_by_text("Unknown time zone")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_focused()
    expect(page.get_by_role("checkbox", name="Mentions: Push")).not_to_be_checked()  # what was chosen stays
    assert not Preference.objects.exists()


def test_the_grid_works_without_javascript(new_context, alice):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, "alice", "pw-alice")
    page.goto("/inbox/preferences/")
    page.get_by_role("checkbox", name="General: Push").uncheck()
    page.get_by_role("button", name="Save preferences").click()
    expect(page).to_have_url("/inbox/preferences/")
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    expect(page.get_by_role("checkbox", name="General: Push")).not_to_be_checked()
    assert list(Preference.objects.values_list("kind", "channel", "enabled")) == [("general", "push", False)]
