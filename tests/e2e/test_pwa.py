"""The installable app: the service worker controls the site, the inbox stays readable
offline, and Chromium finds the manifest installable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import CHROMIUM_ARGS, log_in
from .pwa_helpers import CONTROLLER, controlled, wait_for_worker


def test_service_worker_registers_and_controls_the_page(login, page, live_server, alice):
    login(alice, "pw-alice")
    page.goto("/inbox/")

    ready = wait_for_worker(page)
    assert ready["scope"] == f"{live_server.url}/"
    assert ready["scriptURL"] == f"{live_server.url}/service-worker.js"

    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    controller = page.evaluate(CONTROLLER)
    assert controller["scriptURL"].endswith("/service-worker.js")
    assert controller["state"] == "activated"


def test_inbox_is_readable_offline_and_recovers(login, page, context, alice, make_notifications):
    make_notifications(alice, 2, text="Seen online {i}")
    login(alice, "pw-alice")
    page.goto("/inbox/")
    controlled(page)  # this navigation went through the worker, which cached /inbox/
    notice = page.get_by_role("status").filter(has_text="offline")
    mark_read = page.get_by_role("button", name="Mark as read", exact=True)
    expect(mark_read).to_have_count(2)

    context.set_offline(True)
    make_notifications(alice, 1, text="Sent while offline")
    response = page.goto("/inbox/")
    assert response.from_service_worker
    expect(page.get_by_text("Seen online 0")).to_be_visible()
    expect(page.get_by_text("Seen online 1")).to_be_visible()
    expect(page.get_by_text("Sent while offline")).to_have_count(0)  # the cached page, not the server's
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("offline")
    expect(mark_read).to_have_count(2)
    for button in mark_read.all():
        expect(button).to_be_disabled()

    page.evaluate(
        "() => { window.__online = new Promise((ok) => addEventListener('online', () => ok(true))); }"
    )
    context.set_offline(False)
    assert page.evaluate("window.__online")  # the browser fires "online" by itself
    expect(notice).to_be_hidden()
    for button in mark_read.all():
        expect(button).to_be_enabled()
    mark_read.first.click()
    expect(mark_read).to_have_count(1)


@pytest.fixture
def persistent_context(playwright, tmp_path, live_server, browser_errors):
    """A context with a profile on disk: an ordinary (incognito-like) one is never installable."""
    context = playwright.chromium.launch_persistent_context(
        user_data_dir=tmp_path / "profile",
        executable_path="/usr/bin/chromium",
        args=CHROMIUM_ARGS,
        headless=True,
        base_url=live_server.url,
    )
    browser_errors.watch(context)
    yield context
    context.close()


def test_manifest_is_installable(persistent_context, alice):
    page = persistent_context.pages[0] if persistent_context.pages else persistent_context.new_page()
    log_in(page, "alice", "pw-alice")
    wait_for_worker(page)
    session = persistent_context.new_cdp_session(page)

    manifest = session.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == [], manifest
    errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], f"Chromium finds the app not installable: {errors}"


def test_offline_a_filtered_address_shows_its_own_saved_page_or_the_offline_page(login, page, context, alice):
    from inbox.api import notify

    notify(alice, "Ada mentioned you", kind="mention")
    notify(alice, "A plain note")
    login(alice, "pw-alice")
    page.goto("/inbox/")
    controlled(page)
    page.goto("/inbox/?filter=all&kind=mention&level=")  # as the filter form sends it
    expect(page.get_by_text("A plain note")).to_have_count(0)

    context.set_offline(True)
    response = page.goto("/inbox/?kind=mention")
    assert response.from_service_worker
    expect(page.get_by_text("Ada mentioned you")).to_be_visible()
    expect(page.get_by_text("A plain note")).to_have_count(0)  # its own page, not the unfiltered one

    page.goto("/inbox/?level=error")  # never seen online: nothing saved for it
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.get_by_text("A plain note")).to_have_count(0)
    context.set_offline(False)
