"""The polite live region says every new notification once, in order: three sent at once are
three announcements, not one that overwrote two; notifications caught up by a badge poll (no
socket) are announced once, counted ("3 new notifications")."""

from __future__ import annotations

from playwright.sync_api import expect

from inbox.api import notify

from .conftest import unread_name
from .realtime_helpers import tab

# Every text the live region is given, in order (what a screen reader is handed).
RECORD = """(() => {
  window.__said = [];
  new MutationObserver(() => {
    const region = document.getElementById("inbox-announcer");
    const text = region?.textContent.trim();
    if (text && window.__said.at(-1) !== text) window.__said.push(text);
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();"""


def said(page) -> list[str]:
    return page.evaluate("window.__said")


def test_three_at_once_are_three_announcements_in_order(asgi_context, alice):
    page = tab(asgi_context(), login=("alice", "pw-alice"))
    page.evaluate(RECORD)
    for text in ("First", "Second", "Third"):
        notify(alice, text)
    page.wait_for_function("() => window.__said.length >= 3", timeout=15_000)
    assert said(page) == ["New notification: First", "New notification: Second", "New notification: Third"]


def test_a_poll_that_catches_up_announces_the_count_once(login, page, bell, alice):
    """The live server serves no socket: the badge polls (every second here)."""
    page.add_init_script(RECORD)
    login(alice, "pw-alice")
    for text in ("One", "Two", "Three"):
        notify(alice, text)
    expect(bell).to_have_accessible_name(unread_name(3))
    page.wait_for_timeout(2500)  # two more polls: nothing new, nothing more said
    assert said(page) == ["3 new notifications"]
