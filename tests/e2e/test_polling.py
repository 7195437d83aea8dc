"""The badge polls only while the page is seen: nothing while the tab is hidden, one refresh as
soon as it is shown again. Time is Playwright's clock, so poll intervals pass at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, expect

from inbox.api import notify

from .conftest import unread_name

BADGE = "/inbox/badge/"
POLL = 60  # seconds: long enough that no poll happens by itself while the test runs

# The page's visibility, under the test's control: headless Chromium's tabs are always visible.
VISIBILITY = """(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, "hidden", {configurable: true, get: () => hidden});
  Object.defineProperty(Document.prototype, "visibilityState", {
    configurable: true, get: () => (hidden ? "hidden" : "visible"),
  });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();"""


@pytest.fixture
def polls(login, page: Page, settings, alice) -> list[Request]:
    """Alice's dashboard with a controllable visibility and clock; the badge's requests, from now on."""
    settings.INBOX_BADGE_POLL_SECONDS = POLL
    page.add_init_script(VISIBILITY)
    page.clock.install()
    login(alice, "pw-alice")
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request) if request.url.endswith(BADGE) else None)
    return requests


def set_hidden(page: Page, hidden: bool) -> None:
    page.evaluate(f"window.__setHidden({'true' if hidden else 'false'})")


def test_the_badge_polls_while_the_page_is_visible(page, bell, polls, alice):
    notify(alice, "While you were looking")
    with page.expect_response(f"**{BADGE}"):
        page.clock.run_for(POLL * 1000 + 100)
    expect(bell).to_have_accessible_name(unread_name(1))
    assert len(polls) == 1


def test_no_poll_while_hidden_and_one_refresh_when_shown(page, bell, polls, alice):
    set_hidden(page, True)
    notify(alice, "While you were away")
    page.clock.run_for(POLL * 1000 * 3 + 100)  # three poll intervals
    page.wait_for_timeout(500)  # time for any request to be sent (none should be)
    assert polls == []
    expect(bell).to_have_accessible_name(unread_name(0))

    with page.expect_response(f"**{BADGE}"):
        set_hidden(page, False)
    expect(bell).to_have_accessible_name(unread_name(1))
    page.wait_for_timeout(500)
    assert len(polls) == 1

    with page.expect_response(f"**{BADGE}"):  # and polling goes on
        page.clock.run_for(POLL * 1000 + 100)
    assert len(polls) == 2
