"""The service worker's offline copies belong to one user: a new login, any logout (the site's,
the admin's) and an ended session drop them; offline, a page that was never saved falls back to
the saved first page of the same filter or to the offline page, never to another filter's page
or another user's. Also what the pages say when they come from those copies."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from playwright.sync_api import Page, expect

from .conftest import dropdown_of, log_in
from .pwa_helpers import controlled, poll, saved_pages

OFFLINE_HEADING = "You are offline"
UNREACHABLE = "The server can't be reached"


def offline_page(page: Page):
    return page.get_by_role("heading", name=OFFLINE_HEADING, level=1)


def shows_nothing_of_alice(page: Page) -> None:
    expect(page.get_by_text("Alice's secret")).to_have_count(0)
    expect(page.get_by_text("alice", exact=True)).to_have_count(0)


@pytest.fixture
def alices_unread_page(page, alice, make_notifications):
    """Alice has read the unread list of her inbox, through the service worker (so it is saved)."""
    rows = make_notifications(alice, 3, text="Alice's secret {i}")
    log_in(page, "alice", "pw-alice")
    page.goto("/inbox/?filter=unread")
    controlled(page)
    expect(page.get_by_text("Alice's secret 0")).to_be_visible()
    assert f"{page.url.split('/inbox/')[0]}/inbox/?filter=unread" in saved_pages(page)
    return rows


def test_a_new_login_without_logout_never_shows_the_previous_users_pages(
    page, context, alices_unread_page, bob, make_notifications
):
    make_notifications(bob, 1, text="Bob's own note")
    log_in(page, "bob", "pw-bob")  # Alice never logged out; Bob lands on his dashboard
    expect(page.get_by_text("Bob's own note")).to_be_visible()

    context.set_offline(True)
    page.goto("/inbox/?filter=unread")  # only Alice ever loaded this one
    expect(offline_page(page)).to_be_visible()
    shows_nothing_of_alice(page)

    cursor = alices_unread_page[-1].cursor
    for url in ("/inbox/?filter=all", "/inbox/", f"/inbox/?filter=all&after={cursor}"):
        page.goto(url)  # Bob's own saved first page of the All list
        expect(page.get_by_text("Bob's own note")).to_be_visible()
        expect(page.get_by_text("bob", exact=True)).to_be_visible()
        shows_nothing_of_alice(page)
    page.goto(f"/inbox/?filter=unread&after={cursor}")
    expect(offline_page(page)).to_be_visible()


def test_the_admins_log_out_clears_the_saved_pages(
    page, context, staff, bob, make_notifications, browser_errors
):
    browser_errors.allow(r"/favicon\.ico")  # the admin's pages name no icon
    make_notifications(staff, 2, text="Alice's secret {i}")  # staff: sam, who can use the admin
    log_in(page, "sam", "pw-sam")
    page.goto("/inbox/?filter=unread")
    controlled(page)
    expect(page.get_by_text("Alice's secret 0")).to_be_visible()

    page.goto("/admin/")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert saved_pages(page) == []

    log_in(page, "bob", "pw-bob")
    controlled(page)
    context.set_offline(True)
    page.goto("/inbox/?filter=unread")
    expect(offline_page(page)).to_be_visible()
    expect(page.get_by_text("Alice's secret 0")).to_have_count(0)


def test_the_sites_log_out_clears_the_saved_pages_and_the_redirect_still_works(page, alices_unread_page):
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert saved_pages(page) == []


def test_a_session_ended_on_the_server_drops_the_saved_pages(page, context, alices_unread_page):
    Session.objects.all().delete()  # the session expired, or was ended elsewhere
    page.goto("/inbox/")  # through the worker: the login page, which shows nobody
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert saved_pages(page) == []

    context.set_offline(True)
    page.goto("/inbox/?filter=unread")
    expect(offline_page(page)).to_be_visible()
    shows_nothing_of_alice(page)


def test_offline_after_the_session_end_no_saved_page_is_shown(
    page, context, alice, settings, make_notifications
):
    settings.SESSION_COOKIE_AGE = 8  # the session ends 8 seconds after login
    make_notifications(alice, 1, text="Alice's secret 0")
    log_in(page, "alice", "pw-alice")
    page.goto("/inbox/?filter=unread")
    controlled(page)
    expires = page.evaluate(
        "async () => Number((await fetch(location.href)).headers.get('X-Inbox-Session-Expires'))"
    )
    assert expires > page.evaluate("Date.now() / 1000"), "the page was saved after the session ended"
    context.set_offline(True)
    page.goto("/inbox/?filter=unread")  # still within the session: the saved page
    expect(page.get_by_text("Alice's secret 0")).to_be_visible()

    assert poll(lambda: page.evaluate("Date.now() / 1000") > expires, timeout=20), "the session did not end"
    page.goto("/inbox/?filter=unread")
    expect(offline_page(page)).to_be_visible()
    shows_nothing_of_alice(page)


def test_offline_each_filter_shows_its_own_list(page, context, alice, make_notifications):
    make_notifications(alice, 1, read=True, text="Read earlier")
    make_notifications(alice, 1, text="Still unread")
    log_in(page, "alice", "pw-alice")
    controlled(page)  # the All list (/inbox/) is saved; the Unread list is not yet
    context.set_offline(True)
    page.goto("/inbox/?filter=unread")
    expect(offline_page(page)).to_be_visible()  # not the All list under the Unread address

    context.set_offline(False)
    page.goto("/inbox/?filter=unread")
    context.set_offline(True)
    for url in ("/inbox/?filter=unread", "/inbox/?filter=unread&after=1700000000000000.1"):
        page.goto(url)
        expect(page.get_by_role("list", name="Unread notifications")).to_be_visible()
        expect(page.get_by_role("link", name="Unread")).to_have_attribute("aria-current", "page")
        expect(page.get_by_text("Read earlier")).to_have_count(0)
    page.goto("/inbox/?filter=all")
    expect(page.get_by_role("list", name="All notifications")).to_be_visible()
    expect(page.get_by_role("link", name="All", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Read earlier")).to_be_visible()


def server_down(context, live_server) -> None:
    """The browser is online, but nothing answers at the server's address."""
    context.route(f"{live_server.url}/**", lambda route: route.abort("connectionrefused"))


def test_a_saved_page_says_the_server_cannot_be_reached(
    page, context, live_server, alice, make_notifications, browser_errors
):
    browser_errors.allow(r"ERR_CONNECTION_REFUSED|Failed to fetch|ERR_FAILED")
    make_notifications(alice, 2, text="Seen online {i}")
    log_in(page, "alice", "pw-alice")
    controlled(page)
    notice = page.get_by_role("status").filter(has_text=UNREACHABLE)
    expect(notice).to_be_hidden()

    server_down(context, live_server)
    response = page.goto("/inbox/")
    assert response.from_service_worker
    expect(page.get_by_text("Seen online 1")).to_be_visible()
    expect(notice).to_be_visible()
    expect(page.get_by_text("You are offline")).to_be_hidden()
    for button in page.get_by_role("button", name="Mark as read", exact=True).all():
        expect(button).to_be_disabled()

    context.unroute(f"{live_server.url}/**")  # the server answers again: the next poll says so
    expect(notice).to_be_hidden()
    expect(page.get_by_role("button", name="Mark as read", exact=True).first).to_be_enabled()


def test_an_action_without_an_answer_says_so(
    page, context, live_server, alice, make_notifications, browser_errors
):
    browser_errors.allow(r"ERR_CONNECTION_REFUSED|Failed to fetch|ERR_FAILED")
    make_notifications(alice, 1, text="Seen online")
    log_in(page, "alice", "pw-alice")
    # The service worker controls the page before the server goes: else it could take control
    # between the two, and the click's request would then go through it or not by chance.
    controlled(page)
    notice = page.get_by_role("status").filter(has_text=UNREACHABLE)
    mark_read = page.get_by_role("button", name="Mark as read", exact=True)

    server_down(context, live_server)
    mark_read.click()
    expect(notice).to_be_visible()
    expect(mark_read).to_be_disabled()


@pytest.fixture
def saved_dropdown(page, alice, make_notifications, bell):
    """Alice opened the bell's dropdown once (so the worker saved it) and closed it: the panel."""
    make_notifications(alice, 1, text="In the dropdown")
    log_in(page, "alice", "pw-alice")
    controlled(page)
    bell.click()
    panel = dropdown_of(bell)
    expect(panel.get_by_text("In the dropdown")).to_be_visible()
    bell.click()
    return panel


def test_offline_the_bell_shows_the_saved_dropdown(page, context, bell, saved_dropdown):
    panel = saved_dropdown
    context.set_offline(True)
    page.reload()
    bell.click()
    expect(panel.get_by_text("In the dropdown")).to_be_visible()
    expect(panel.get_by_role("button", name="Mark as read")).to_be_disabled()


@pytest.fixture
def no_poll(settings):
    settings.INBOX_BADGE_POLL_SECONDS = 600  # no badge poll fails during the test and says it


def test_a_saved_dropdown_says_the_server_cannot_be_reached(
    page, context, live_server, no_poll, bell, saved_dropdown, browser_errors
):
    """Online but the server down, the worker answers the bell from its saved copy and marks it
    with the header the page was told (data-saved-header): the page says the server is down."""
    browser_errors.allow(r"ERR_CONNECTION_REFUSED|Failed to fetch|ERR_FAILED")
    panel = saved_dropdown
    notice = page.get_by_role("status").filter(has_text=UNREACHABLE)
    expect(notice).to_be_hidden()

    server_down(context, live_server)
    bell.click()
    expect(panel.get_by_text("In the dropdown")).to_be_visible()
    expect(notice).to_be_visible()
    expect(panel.get_by_role("button", name="Mark as read")).to_be_disabled()


def test_offline_the_bell_says_why_it_has_nothing(page, context, alice, make_notifications, bell):
    make_notifications(alice, 1, text="Never opened")
    log_in(page, "alice", "pw-alice")
    controlled(page)

    context.set_offline(True)
    page.reload()
    bell.click()
    panel = dropdown_of(bell)
    expect(panel.get_by_role("heading", name="Notifications")).to_be_focused()
    expect(panel).to_contain_text("can't be loaded")
    panel.get_by_role("link", name="Open your inbox as last loaded").click()
    expect(page.get_by_text("Never opened")).to_be_visible()


@pytest.fixture
def sso(settings):
    settings.ROOT_URLCONF = "tests.e2e.sso_urls"


def post_navigation(page: Page, action: str, **fields: str) -> None:
    """A form POST that navigates the page (the identity provider's form, submitted)."""
    page.evaluate(
        """([action, fields]) => {
          const form = Object.assign(document.createElement("form"), { method: "post", action });
          for (const [name, value] of Object.entries(fields)) {
            form.append(Object.assign(document.createElement("input"), { type: "hidden", name, value }));
          }
          document.body.append(form);
          form.submit();
        }""",
        [action, fields],
    )


def test_a_single_sign_on_post_drops_the_previous_users_pages(
    page, context, sso, alices_unread_page, bob, browser_errors
):
    """Bob signs in through a form POST that is not the login view (SAML's POST binding):
    the page it answers is the first the worker sees of Bob."""
    browser_errors.allow(r"/favicon\.ico")  # the sign-on page names no icon
    post_navigation(page, "/sso/", user="bob")
    expect(page.get_by_role("heading", name="Signed in as bob")).to_be_visible()

    context.set_offline(True)
    page.goto("/inbox/?filter=unread")  # only Alice ever loaded this one
    expect(offline_page(page)).to_be_visible()
    shows_nothing_of_alice(page)


def test_a_single_sign_on_redirect_drops_the_previous_users_pages(
    page, context, sso, alices_unread_page, bob
):
    page.goto("/sso/?user=bob")  # an OAuth-style callback: logs Bob in, redirects to his inbox
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()

    context.set_offline(True)
    page.goto("/inbox/?filter=unread")
    expect(offline_page(page)).to_be_visible()
    shows_nothing_of_alice(page)


def log_in_elsewhere(context, live_server, user) -> None:
    """A login the service worker never sees (single sign-on, "log in as"): no login form, no
    POST; the browser simply holds another user's session cookie (Django's own login(), through
    the test client's force_login)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_a_login_the_worker_never_saw_drops_the_previous_users_pages_at_the_next_page(
    page, context, live_server, alices_unread_page, bob
):
    log_in_elsewhere(context, live_server, bob)
    page.goto("/accounts/password_change/")  # any page of the site, not the inbox: shown to Bob
    expect(page.get_by_role("heading", name="Password change")).to_be_visible()

    context.set_offline(True)
    page.goto("/inbox/?filter=unread")  # only Alice ever loaded this one
    expect(offline_page(page)).to_be_visible()
    shows_nothing_of_alice(page)
