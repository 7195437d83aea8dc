"""Push and the people sharing a browser: logging out unsubscribes this browser (in the browser
and on the server), the switch shows the current user's state and releases a previous user's
subscription, and a renewed subscription proves it held the old one.

Headless Chromium cannot subscribe to a real push service, so the browser's PushManager is
replaced by a stand-in that holds subscriptions with real keys: in the page (an init script)
or in the service worker (evaluated there)."""

from __future__ import annotations

import json
import os
import re

from playwright.sync_api import expect
from webpush.models import PushInformation, SubscriptionInfo

from tests.push.keys import b64url_encode, subscription_json

from .conftest import log_in
from .pwa_helpers import poll, service_worker, wait_for_worker

SUBSCRIBE = """async (subscription) => {
  const response = await fetch("/inbox/push/subscribe/", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json",
               "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content },
    body: JSON.stringify({ subscription, browser: "E2E Chromium" }),
  });
  return response.status;
}"""

# The page's PushManager: getSubscription() gives `current`; subscribe() gives `current`, or
# else the next of `next`; unsubscribe() is recorded in window.__unsubscribed.
PAGE_PUSH = """(() => {
  const given = %s;
  window.__unsubscribed = [];
  const bytes = (text) => Uint8Array.from(
    atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length %% 4)) %% 4)),
    (c) => c.charCodeAt(0)).buffer;
  const make = (json) => json && ({
    endpoint: json.endpoint,
    options: { userVisibleOnly: true },
    getKey: (name) => bytes(json.keys[name]),
    toJSON: () => json,
    unsubscribe: async () => { window.__unsubscribed.push(json.endpoint); current = null; return true; },
  });
  let current = make(given.current);
  const next = given.next.map(make);
  PushManager.prototype.getSubscription = async function () { return current; };
  PushManager.prototype.subscribe = async function () { current = current || next.shift(); return current; };
})();"""

# The same stand-in inside the service worker; unsubscribe() tells the test by a request.
WORKER_PUSH = """(json) => {
  const subscription = {
    endpoint: json.endpoint,
    toJSON: () => json,
    unsubscribe: async () => { await fetch("/e2e-push-unsubscribed"); return true; },
  };
  PushManager.prototype.getSubscription = async function () { return subscription; };
}"""


ALICE = "https://push.example.net/send/alice"
BOB = "https://push.example.net/send/bob"


def stored(endpoint: str):
    return SubscriptionInfo.objects.filter(endpoint=endpoint)


def test_logging_out_unsubscribes_this_browser(page, context, live_server, alice, public_push_host):
    log_in(page, "alice", "pw-alice")
    wait_for_worker(page)
    subscription = subscription_json(ALICE)
    assert page.evaluate(SUBSCRIBE, subscription) == 201
    unsubscribed = []
    context.route(
        "**/e2e-push-unsubscribed", lambda route: (unsubscribed.append(True), route.fulfill(status=204))
    )
    service_worker(context).evaluate(WORKER_PUSH, subscription)
    page.evaluate("localStorage.setItem('left-by', 'alice')")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert poll(lambda: unsubscribed), "the service worker did not unsubscribe the browser"
    assert not stored(ALICE).exists()  # and the server forgot it
    # Clear-Site-Data "storage" emptied the site's storage (and removed the worker, with any
    # push subscription it held; the login page registers a fresh one).
    assert page.evaluate("localStorage.getItem('left-by')") is None


def test_the_switch_releases_a_previous_users_subscription(
    new_context, live_server, alice, bob, public_push_host
):
    alices = subscription_json(ALICE)
    context = new_context()
    context.add_init_script(PAGE_PUSH % json.dumps({"current": alices, "next": []}))
    page = context.new_page()
    log_in(page, "alice", "pw-alice")
    assert page.evaluate(SUBSCRIBE, alices) == 201  # Alice turned push on in this browser...
    page.goto("/inbox/preferences/")
    switch = page.get_by_role("switch", name="Push notifications")
    expect(switch).to_have_attribute("aria-checked", "true")  # ...and her switch says so

    log_in(page, "bob", "pw-bob")  # then Bob logs in on the same browser, without her logout
    page.goto("/inbox/preferences/")
    expect(switch).to_be_visible()
    expect(switch).to_have_attribute("aria-checked", "false")
    assert page.evaluate("window.__unsubscribed") == [ALICE]
    assert poll(lambda: not stored(ALICE).exists()), "Alice's subscription was not released"


def test_turning_on_over_another_accounts_subscription_makes_a_new_one(
    new_context, live_server, alice, bob, public_push_host, browser_errors
):
    browser_errors.allow(r"status of 409 \(Conflict\)")  # the browser logs the refused save
    alices, bobs = subscription_json(ALICE), subscription_json(BOB)
    SubscriptionInfo.objects.create(
        endpoint=ALICE, p256dh=alices["keys"]["p256dh"], auth=alices["keys"]["auth"]
    )
    PushInformation.objects.create(user=alice, subscription=stored(ALICE).get())
    context = new_context()
    context.grant_permissions(["notifications"], origin=live_server.url)
    # The browser's push service hands out Alice's subscription first (the server says 409).
    context.add_init_script(PAGE_PUSH % json.dumps({"current": None, "next": [alices, bobs]}))
    page = context.new_page()
    log_in(page, "bob", "pw-bob")
    page.goto("/inbox/preferences/")
    switch = page.get_by_role("switch", name="Push notifications")
    expect(switch).to_have_attribute("aria-checked", "false")

    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(page.get_by_text("Push notifications are on for this browser.")).to_be_visible()
    assert page.evaluate("window.__unsubscribed") == [ALICE]
    assert not stored(ALICE).exists()
    assert PushInformation.objects.filter(user=bob, subscription__endpoint=BOB).exists()


RENEW = """async ({ old, renewed }) => {
  const options = { userVisibleOnly: true };
  const oldSubscription = old && { endpoint: old.endpoint, options, toJSON: () => old };
  const response = await renewSubscription(oldSubscription, { toJSON: () => renewed });
  return response ? response.status : null;
}"""


def test_a_renewal_proves_the_worker_held_the_old_subscription(page, context, alice, public_push_host):
    """pushsubscriptionchange, as the worker handles it (Chromium cannot fire the event): the
    renewal carries the old subscription's auth secret; a wrong one changes nothing; without an
    old subscription nothing is sent."""
    log_in(page, "alice", "pw-alice")
    wait_for_worker(page)
    old, renewed = subscription_json(ALICE), subscription_json(BOB)
    assert page.evaluate(SUBSCRIBE, old) == 201
    worker = service_worker(context)

    forged = {**old, "keys": {**old["keys"], "auth": b64url_encode(os.urandom(16))}}
    assert worker.evaluate(RENEW, {"old": forged, "renewed": renewed}) == 403
    assert stored(ALICE).exists()
    assert worker.evaluate(RENEW, {"old": None, "renewed": renewed}) is None

    assert worker.evaluate(RENEW, {"old": old, "renewed": renewed}) == 200
    row = SubscriptionInfo.objects.get(pk=stored(BOB).get().pk)
    assert (row.p256dh, row.auth) == (renewed["keys"]["p256dh"], renewed["keys"]["auth"])
    assert not stored(ALICE).exists()


def test_the_dropdowns_switch_asks_the_server_once_per_page(
    new_context, live_server, alice, public_push_host, make_notifications
):
    """Every action in the dropdown renders its switch again; the answer about this browser's
    subscription is the same, so it is asked for once, not once per action."""
    alices = subscription_json(ALICE)
    make_notifications(alice, 3, text="Note {i}")
    context = new_context()
    context.add_init_script(PAGE_PUSH % json.dumps({"current": alices, "next": []}))
    page = context.new_page()
    log_in(page, "alice", "pw-alice")
    assert page.evaluate(SUBSCRIBE, alices) == 201
    checks = []
    page.on("request", lambda request: checks.append(1) if "/push/check/" in request.url else None)
    page.get_by_role("button", name=re.compile("^Notifications")).click()
    panel = page.locator("#bell-panel")
    switch = panel.get_by_role("switch", name="Push notifications")
    expect(switch).to_have_attribute("aria-checked", "true")
    for text in ("Note 2", "Note 1"):
        panel.get_by_role("listitem").filter(has_text=text).get_by_role("button", name="Mark as read").click()
        expect(panel.get_by_role("listitem").filter(has_text=text)).to_have_count(0)
        expect(switch).to_have_attribute("aria-checked", "true")
    assert len(checks) == 1
