"""When the socket cannot carry the updates, the page polls: a blocked socket, a server that
restarts. While the socket is up, the badge does not poll. After a restart the page reconnects
and catches up on what it missed."""

from __future__ import annotations

import time

from django.utils import timezone
from playwright.sync_api import Request, expect

from inbox.api import notify
from inbox.models import Notification

from .asgi_server import manage
from .conftest import log_in, shows, unread_name
from .realtime_helpers import BADGE, SOCKET_UP, frames, tab
from .test_realtime import bell_of, dashboard_items

# As if a proxy refused the upgrade: the page's socket goes to an address the server answers with
# an error instead of a WebSocket (the handshake fails: code 1006, and hx-ws retries with backoff).
BLOCKED = """(() => {
  document.addEventListener("htmx:ws:before:connection", (event) => {
    event.detail.connection.url = event.detail.connection.url.replace(/\\/ws\\/$/, "/not-a-socket/");
  });
})();"""
# The close codes of the page's socket.
CLOSES = """(() => {
  window.__closes = [];
  document.addEventListener("htmx:ws:close", (event) => window.__closes.push(event.detail.code));
})();"""

FAILED_SOCKET = [r"WebSocket connection to .* failed", r"htmx:ws:error"]
NO_SERVER = [r"Failed to load resource: net::ERR_CONNECTION_REFUSED", r"htmx:error: Failed to fetch"]


def badge_requests(page) -> list[Request]:
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request) if request.url.endswith(BADGE) else None)
    return requests


def test_a_blocked_socket_falls_back_to_polling(asgi_context, alice, browser_errors):
    for pattern in FAILED_SOCKET:
        browser_errors.allow(pattern)
    context = asgi_context()
    context.add_init_script(BLOCKED)
    page = context.new_page()
    page.add_init_script(CLOSES)
    log_in(page, "alice", "pw-alice")
    polls = badge_requests(page)
    expect(page.locator("[data-live]")).to_have_count(1)  # the page has a socket to try
    expect(bell_of(page)).to_have_accessible_name(unread_name(0))

    notify([alice], "Sent while the socket is blocked")
    expect(bell_of(page)).to_have_accessible_name(unread_name(1))  # within one poll (1 s)
    assert polls, "the badge did not poll"
    expect(page.locator(SOCKET_UP)).to_have_count(0)
    assert page.evaluate("window.__closes").count(1006) >= 1, "the page did not try its socket"


# BLOCKED until the test lets the socket through: each new socket, at its creation.
BLOCKED_FOR_NOW = """(() => {
  window.__blocked = true;
  const RealSocket = window.WebSocket;
  window.WebSocket = class extends RealSocket {
    constructor(url, protocols) {
      super(window.__blocked ? String(url).replace(/\\/ws\\/$/, "/not-a-socket/") : url, protocols);
    }
  };
})();"""


def test_a_socket_that_fails_to_open_on_an_asgi_server_keeps_trying(asgi_context, alice, browser_errors):
    """Failed opens on a server that can upgrade (here, as if a proxy refused the upgrade for a
    while; as well a deploy's restart, the connect throttle, a page opened offline) are not a
    server that never can: the page keeps trying with backoff and its socket opens once it can."""
    for pattern in FAILED_SOCKET:
        browser_errors.allow(pattern)
    context = asgi_context()
    context.add_init_script(BLOCKED_FOR_NOW)
    page = context.new_page()
    page.add_init_script(CLOSES)
    log_in(page, "alice", "pw-alice")
    deadline = time.monotonic() + 30
    while page.evaluate("window.__closes").count(1006) < 4:  # more than the 3 the page gave up after
        assert time.monotonic() < deadline, "the page stopped trying its socket"
        page.wait_for_timeout(200)
    expect(page.locator("[data-live][data-gave-up]")).to_have_count(0)
    page.evaluate("window.__blocked = false")
    expect(page.locator(SOCKET_UP)).to_have_count(1, timeout=30_000)
    notify([alice], "Live once the socket opens")
    expect(bell_of(page)).to_have_accessible_name(unread_name(1))


def test_polling_rests_while_the_socket_is_up(asgi_context, alice):
    page = tab(asgi_context(), login=("alice", "pw-alice"))
    polls = badge_requests(page)
    time.sleep(3.5)  # three and a half poll intervals
    assert polls == [], f"the badge polled {len(polls)} times while the socket was up"

    notify([alice], "Through the socket")
    expect(bell_of(page)).to_have_accessible_name(unread_name(1))
    assert polls == []


def test_after_a_restart_the_page_reconnects_and_catches_up(
    asgi_context, asgi, alice, make_notifications, browser_errors
):
    for pattern in [*FAILED_SOCKET, *NO_SERVER]:
        browser_errors.allow(pattern)
    for text in ("Stays unread", "Read elsewhere", "Deleted elsewhere"):
        make_notifications(alice, 1, text=text)
    page = tab(asgi_context(), login=("alice", "pw-alice"))
    items = dashboard_items(page)
    expect(items).to_have_count(3)
    polls = badge_requests(page)

    asgi.stop()
    expect(page.locator(SOCKET_UP)).to_have_count(0)
    # While the socket is down, the badge polls again (and finds no server).
    page.wait_for_timeout(2500)
    assert polls, "the badge did not poll while the socket was down"

    manage("send_notification", "Sent while the server was down", "--user", "alice")
    Notification.objects.filter(message__text="Read elsewhere").update(read_at=timezone.now())
    Notification.objects.filter(message__text="Deleted elsewhere").delete()
    seen = frames(page)
    asgi.start()

    expect(page.locator(SOCKET_UP)).to_have_count(1, timeout=20_000)  # backoff: 0.5 s, 1 s, 2 s, ...
    page.wait_for_function(f"() => window.__frames > {seen}")
    expect(items.first).to_have_text(shows("Sent while the server was down"))
    expect(
        items.filter(has_text="Read elsewhere").get_by_role("button", name="Mark as unread")
    ).to_be_visible()
    expect(items.filter(has_text="Deleted elsewhere")).to_have_count(0)
    expect(items).to_have_count(3)
    expect(bell_of(page)).to_have_accessible_name(unread_name(2))
    page.screenshot(path="/tmp/shots/realtime-after-restart.png")


def test_after_a_password_change_the_users_other_tabs_reconnect(asgi_context, alice, browser_errors):
    """Changing the password gives the session a new key and closes every socket opened with the
    old one (4401, which hx-ws does not retry). The other tab polls, its poll answers with the
    session's new key, and its socket connects again: live updates resume without a reload."""
    browser_errors.allow(r"favicon\.ico")  # Django's own password change page links none
    context = asgi_context()
    changing = tab(context, login=("alice", "pw-alice"))
    other = tab(context)
    other.add_init_script(CLOSES)
    other.evaluate(CLOSES)
    opened = []
    other.on("websocket", lambda socket: opened.append(socket))

    changing.goto("/accounts/password_change/")
    changing.locator("#id_old_password").fill("pw-alice")
    changing.locator("#id_new_password1").fill("a-Much-longer-2026-pass")
    changing.locator("#id_new_password2").fill("a-Much-longer-2026-pass")
    changing.get_by_role("button", name="Change my password").click()
    expect(changing.get_by_text("Your password was changed.")).to_be_visible()

    other.wait_for_function("() => window.__closes.includes(4401)")
    expect(other.locator(SOCKET_UP)).to_have_count(1)  # after its next poll
    assert len(opened) == 1, "the socket was opened again, once"
    before = frames(other)
    manage("send_notification", "After the password change", "--user", "alice")
    expect(dashboard_items(other).filter(has_text="After the password change")).to_be_visible()
    assert frames(other) > before, "it came over the socket"
