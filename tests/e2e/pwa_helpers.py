"""Helpers for the service worker and push browser tests: waiting for the worker to control a
page, and reaching the worker through the DevTools protocol."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, Page, Worker

READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return { scope: registration.scope, scriptURL: registration.active.scriptURL };
}"""

CONTROLLER = """() => {
  const worker = navigator.serviceWorker.controller;
  return worker ? { scriptURL: worker.scriptURL, state: worker.state } : null;
}"""


def wait_for_worker(page: Page) -> dict:
    """Wait until the page's service worker is active; its scope and script URL."""
    return page.evaluate(READY)


def controlled(page: Page) -> dict:
    """Make the service worker control `page`: wait for it, then reload so the page's own
    navigation goes through the worker (and /inbox/ lands in its cache)."""
    wait_for_worker(page)
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    return page.evaluate(CONTROLLER)


def poll(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Call `check` until it returns something truthy (bounded); that value, or the last one."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def registration_id(context: BrowserContext, page: Page, scope: str) -> tuple[Any, str]:
    """A CDP session on `page` with the ServiceWorker domain enabled, and the id of the
    registration whose scope is `scope`, as DevTools reports it."""
    session = context.new_cdp_session(page)
    registrations: dict[str, str] = {}

    def updated(event: dict) -> None:
        for registration in event["registrations"]:
            if not registration.get("isDeleted"):
                registrations[registration["scopeURL"]] = registration["registrationId"]

    session.on("ServiceWorker.workerRegistrationUpdated", updated)
    session.send("ServiceWorker.enable")
    # Events arrive while Playwright waits on the page; a cheap evaluate lets them in.
    found = poll(lambda: page.evaluate("1") and registrations.get(scope))
    assert found, f"DevTools reported no registration for {scope}: {registrations}"
    return session, found


SPY = """() => {
  if (self.__shown) return;
  self.__shown = [];
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = function (...args) {
    return show.apply(this, args).then(
      (value) => { self.__shown.push("shown"); return value; },
      (error) => { self.__shown.push(`failed: ${error}`); throw error; },
    );
  };
}"""


def service_worker(context: BrowserContext) -> Worker:
    """The running service worker, as Playwright attached to it."""
    workers = poll(lambda: [w for w in context.service_workers if w.url.endswith("/service-worker.js")])
    assert workers, "no service worker is running"
    return workers[0]


def watch_notifications(worker: Worker) -> Callable[[], list[str]]:
    """Record how each showNotification() call in `worker` settles; returns a function that
    waits for the first to settle and gives the outcomes ("shown" or "failed: ...").

    A test must not poll getNotifications() while a notification is being shown: Chromium
    drops from its notification database any entry that is not displayed *yet* when a
    getNotifications() call starts, so polling loses the notification now and then (seen
    under load). Waiting for showNotification() to resolve first avoids that race."""
    worker.evaluate(SPY)

    def outcomes() -> list[str]:
        return poll(lambda: worker.evaluate("self.__shown"))

    return outcomes


SAVED_PAGES = """async () => {
  if (!(await caches.has("inbox-pages"))) return [];
  const keys = await (await caches.open("inbox-pages")).keys();
  return keys.map((request) => request.url).filter((url) => !url.endsWith("/inbox-pages-owner"));
}"""


def saved_pages(page: Page) -> list[str]:
    """The URLs the service worker keeps for offline viewing (its pages cache)."""
    return page.evaluate(SAVED_PAGES)
