"""The staff send form at /inbox/send/: sent or refused inline, without a page load."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.models import Message, Notification

from .conftest import no_page_load


@pytest.fixture
def send_page(login, page, staff):
    login(staff, "pw-sam")
    page.goto("/inbox/send/")
    expect(page.get_by_role("heading", name="Send a notification")).to_be_visible()
    with no_page_load(page):  # the form answers in place, errors included
        yield page


def test_send_to_a_group(team, alice, bob, staff, send_page):
    page = send_page
    page.get_by_label("Message").fill("Deploy at 17:00")
    page.get_by_label("Group").select_option(label="team")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("main").get_by_role("status")).to_have_text("Sent to 2 recipients.")
    expect(page.get_by_label("Message")).to_have_value("")  # a fresh form for the next one
    received = Notification.objects.filter(message__text="Deploy at 17:00")
    assert sorted(received.values_list("recipient__username", flat=True)) == ["alice", "bob"]
    assert not staff.notifications.exists()


def test_empty_message_is_refused_inline(team, browser_errors, send_page):
    browser_errors.allow(r"status of 422 .*/inbox/send/")  # Chromium logs the refused POST
    page = send_page
    page.get_by_label("Group").select_option(label="team")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_text("This field is required.")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("status")).to_have_count(0)
    expect(page.get_by_label("Group")).to_have_value(str(team.pk))  # what was chosen stays
    assert not Message.objects.exists()


def test_unknown_username_is_refused_inline(send_page, browser_errors, alice):
    browser_errors.allow(r"status of 422 .*/inbox/send/")
    page = send_page
    page.get_by_label("Message").fill("Hello")
    page.get_by_role("textbox", name="Users").fill("alice nobody")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_text("Unknown user: nobody.")).to_be_visible()
    expect(page.get_by_label("Message")).to_have_value("Hello")
    assert not Message.objects.exists()


def test_non_staff_get_403(login, page, browser_errors, alice):
    browser_errors.allow(r"status of 403 .*/inbox/send/")
    login(alice, "pw-alice")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Send")).to_have_count(0)

    response = page.goto("/inbox/send/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_have_count(0)
