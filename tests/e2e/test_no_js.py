"""Without JavaScript every action is a plain form POST that redirects back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in, shows, unread_name


@pytest.fixture
def no_js_page(new_context):
    return new_context(java_script_enabled=False).new_page()


def test_mark_as_read_posts_and_redirects_back(no_js_page, alice, make_notifications):
    page = no_js_page
    make_notifications(alice, 1, text="Older")
    make_notifications(alice, 1, text="Newer")
    log_in(page, "alice", "pw-alice")
    bell = page.get_by_role("button", name=unread_name(2))
    expect(bell).to_be_visible()
    item = page.get_by_role("list", name="All notifications").get_by_role("listitem").filter(has_text="Newer")
    expect(item.get_by_text("Unread", exact=True)).to_be_visible()

    with page.expect_navigation() as navigation:
        item.get_by_role("button", name="Mark as read").click()
    assert navigation.value.request.method == "GET"  # the POST's redirect, followed
    assert navigation.value.request.redirected_from.method == "POST"
    expect(page).to_have_url("/inbox/?filter=all")
    expect(item.get_by_role("button", name="Mark as unread")).to_be_visible()
    expect(item.get_by_text("Unread", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name=unread_name(1))).to_be_visible()
    assert alice.notifications.get(message__text="Newer").read_at is not None
    assert alice.notifications.get(message__text="Older").read_at is None


def test_the_bell_opens_the_dashboard(no_js_page, alice, make_notifications):
    page = no_js_page
    make_notifications(alice, 1, text="Hello")
    log_in(page, "alice", "pw-alice")
    page.get_by_role("link", name="Unread", exact=True).click()
    expect(page).to_have_url("/inbox/?filter=unread")

    page.get_by_role("button", name=unread_name(1)).click()
    expect(page).to_have_url(re.compile(r"/inbox/\??$"))  # a GET form with no fields
    expect(page.get_by_role("list", name="All notifications").get_by_role("listitem")).to_have_text(
        [shows("Hello")]
    )
