"""Accessibility: axe-core (vendored for the tests) finds nothing serious on the pages and the
open dropdown, landmarks have distinct names, and the send form puts the focus on its answer."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from inbox.models import Message

from .conftest import dropdown_of

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


@cache
def axe_source() -> str:
    return AXE.read_text()


def axe_violations(page: Page) -> list[dict]:
    """axe's violations on the page as it is now. page.evaluate runs outside the page's Content
    Security Policy, so the site's policy stays as it is."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}" for v in violations
    ]
    serious = [
        line for v, line in zip(violations, report, strict=True) if v["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(report)
    assert not [v for v in violations if v["id"] == "landmark-unique"], "\n".join(report)


def test_login_page(page):
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert_accessible(page)


def test_dashboard_with_the_dropdown_open(login, page, bell, alice, make_notifications):
    make_notifications(alice, 3, text="Note {i}")
    make_notifications(alice, 1, read=True, text="Read note")
    login(alice, "pw-alice")
    bell.click()
    expect(dropdown_of(bell).get_by_role("listitem")).to_have_count(3)
    assert_accessible(page)
    regions = page.get_by_role("region")
    names = [
        region.evaluate("r => r.getAttribute('aria-label') || r.getAttribute('aria-labelledby')")
        for region in regions.all()
    ]
    assert len(names) == len(set(names)), names
    expect(page.get_by_role("region", name="Latest unread notifications")).to_be_visible()


def test_preferences(login, page, alice):
    login(alice, "pw-alice")
    page.goto("/inbox/preferences/")
    expect(page.get_by_role("heading", name="Preferences", level=1)).to_be_visible()
    assert_accessible(page)


@pytest.fixture
def send_page(login, page, staff, browser_errors):
    browser_errors.allow(r"status of 422 .*/inbox/send/")  # Chromium logs each refused POST
    login(staff, "pw-sam")
    page.goto("/inbox/send/")
    expect(page.get_by_role("heading", name="Send a notification")).to_be_visible()
    return page


def test_send_form_with_errors(send_page):
    page = send_page
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    assert_accessible(page)


def test_after_sending_the_focus_is_on_the_result(team, send_page):
    page = send_page
    page.get_by_label("Message").fill("Deploy at 17:00")
    page.get_by_label("Group").select_option(label="team")
    page.get_by_role("button", name="Send").click()

    status = page.get_by_role("main").get_by_role("status")  # not the bell's live region
    expect(status).to_have_text("Sent to 2 recipients.")
    expect(status).to_be_focused()
    assert Message.objects.count() == 1


def test_a_refused_send_puts_the_focus_on_the_first_invalid_field(team, send_page):
    page = send_page
    page.get_by_label("Group").select_option(label="team")
    page.get_by_label("Link").fill("javascript:alert(1)")
    page.get_by_role("button", name="Send").click()

    message = page.get_by_role("textbox", name="Message")
    expect(message).to_be_focused()
    expect(message).to_have_attribute("aria-invalid", "true")
    expect(message).to_have_accessible_description("This field is required.")
    expect(page.get_by_role("textbox", name="Link")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("main").get_by_role("status")).to_have_count(0)


def test_a_send_without_recipients_puts_the_focus_on_the_form_s_error(send_page):
    page = send_page
    page.get_by_label("Message").fill("Hello")
    page.get_by_role("button", name="Send").click()

    alert = page.get_by_role("main").get_by_role("alert")
    expect(alert).to_contain_text("Choose the recipients")
    expect(alert).to_be_focused()


def test_a_failed_send_after_a_good_one_clears_the_result(team, send_page):
    page = send_page
    page.get_by_label("Message").fill("First")
    page.get_by_label("Group").select_option(label="team")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("main").get_by_role("status")).to_have_text("Sent to 2 recipients.")

    page.get_by_role("button", name="Send").click()  # the fresh form is empty: refused
    expect(page.get_by_role("main").get_by_role("alert")).to_be_focused()
    expect(page.get_by_role("main").get_by_role("status")).to_have_count(0)
