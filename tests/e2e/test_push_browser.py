"""Web Push in the browser: the service worker shows a pushed notification, the toggle explains
blocked notifications, and a subscription is stored, listed and removed through the site.

Headless Chromium cannot subscribe to a real push service, so a push is delivered through the
DevTools protocol and the subscription is posted to the endpoint as the toggle would post it."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from webpush.models import PushInformation, SubscriptionInfo

from tests.push.keys import subscription_json

from .conftest import log_in
from .pwa_helpers import registration_id, service_worker, wait_for_worker, watch_notifications

NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
  .map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }))"""

SUBSCRIBE = """async ({ subscription, csrf }) => {
  const headers = { "Content-Type": "application/json" };
  if (csrf) headers["X-CSRFToken"] = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch("/inbox/push/subscribe/", {
    method: "POST", headers, credentials: "same-origin",
    body: JSON.stringify({ subscription, browser: "E2E Chromium" }),
  });
  return { status: response.status, body: await response.text() };
}"""

ENDPOINT = "https://push.example.net/send/abc"


def test_a_push_shows_a_notification(login, page, context, live_server, alice):
    context.grant_permissions(["notifications"], origin=live_server.url)
    login(alice, "pw-alice")
    ready = wait_for_worker(page)
    session, registration = registration_id(context, page, ready["scope"])
    shown = watch_notifications(service_worker(context))
    payload = {
        "title": "Inbox · Warning",
        "body": "Disk almost full",
        "url": "/inbox/",
        "id": 42,
        "level": "warning",
        "unread": 3,
        "read_token": "x",
    }
    session.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration, "data": json.dumps(payload)},
    )

    assert shown() == ["shown"]
    notifications = page.evaluate(NOTIFICATIONS)
    assert len(notifications) == 1, notifications
    assert notifications[0]["title"] == "Inbox · Warning"
    assert notifications[0]["body"] == "Disk almost full"
    assert notifications[0]["tag"] == "42"
    assert notifications[0]["data"]["url"] == "/inbox/"


def test_blocked_notifications_are_explained(login, page, context, live_server, alice):
    login(alice, "pw-alice")
    assert page.evaluate("Notification.permission") == "default"
    session = context.new_cdp_session(page)
    browser_context = session.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    session.send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": "denied",
            "origin": live_server.url,
            "browserContextId": browser_context,
        },
    )
    page.goto("/inbox/preferences/")
    assert page.evaluate("Notification.permission") == "denied"

    switch = page.get_by_role("switch", name="Push notifications")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(page.get_by_role("status").filter(has_text="blocked")).to_be_visible()
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(switch).to_be_enabled()


def test_the_toggle_waits_for_the_service_worker(new_context, alice):
    """A switch that cannot work yet is not shown: with no service worker, it stays hidden."""
    page = new_context(service_workers="block").new_page()
    log_in(page, "alice", "pw-alice")
    page.goto("/inbox/preferences/")
    expect(page.get_by_role("heading", name="Push notifications")).to_be_visible()
    expect(page.locator("[data-push-toggle]")).to_be_hidden()


def test_a_subscription_is_stored_listed_and_removed(login, page, alice, public_push_host, browser_errors):
    login(alice, "pw-alice")
    subscription = subscription_json(ENDPOINT)

    browser_errors.allow(r"status of 403 \(Forbidden\)")  # the browser logs the refused fetch
    refused = page.evaluate(SUBSCRIBE, {"subscription": subscription, "csrf": False})
    assert refused["status"] == 403
    assert not SubscriptionInfo.objects.exists()

    stored = page.evaluate(SUBSCRIBE, {"subscription": subscription, "csrf": True})
    assert stored["status"] == 201, stored["body"]
    row = SubscriptionInfo.objects.get(endpoint=ENDPOINT)
    assert row.p256dh == subscription["keys"]["p256dh"]
    assert row.auth == subscription["keys"]["auth"]
    assert PushInformation.objects.filter(user=alice, subscription=row).exists()
    assert json.loads(stored["body"]) == {"id": row.pk}

    page.goto("/inbox/preferences/")
    browsers = page.get_by_role("list").filter(has_text="E2E Chromium")
    listed = browsers.get_by_role("listitem").filter(has_text="E2E Chromium")
    expect(listed).to_have_count(1)
    listed.get_by_role("button", name="Remove").click()
    expect(browsers).to_have_count(0)
    expect(page.get_by_text("None yet.")).to_be_visible()
    assert not SubscriptionInfo.objects.filter(endpoint=ENDPOINT).exists()
    assert not PushInformation.objects.filter(user=alice).exists()
