"""A notification read on another device closes the OS notification this device shows for it:
the page's socket hears of the read, and the page asks the service worker to close the
notifications with that tag (the notification's id, as a push sets it)."""

from __future__ import annotations

from playwright.sync_api import expect

from inbox.models import Notification

from .conftest import unread_name
from .pwa_helpers import poll, service_worker, wait_for_worker, watch_notifications
from .realtime_helpers import tab
from .test_realtime import bell_of, dashboard_items

# Shown by the worker, as its push handler does.
SHOW = """async (tags) => {
  for (const tag of tags) await self.registration.showNotification("Inbox", { body: tag, tag });
}"""
SHOWN = """async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => n.tag)"""
RECORD_MESSAGES = """() => {
  self.__messages = [];
  self.addEventListener("message", (event) => self.__messages.push(event.data));
}"""


def test_read_elsewhere_closes_the_os_notification_here(asgi_context, asgi, alice, make_notifications):
    read_there, kept = make_notifications(alice, 2, text="Pushed note {i}")
    device = asgi_context()
    device.grant_permissions(["notifications"], origin=asgi.url)
    here = tab(device, login=("alice", "pw-alice"))
    wait_for_worker(here)
    worker = service_worker(device)
    worker.evaluate(RECORD_MESSAGES)
    shown = watch_notifications(worker)
    worker.evaluate(SHOW, [str(read_there.pk), str(kept.pk)])
    assert shown() == ["shown", "shown"]
    assert sorted(here.evaluate(SHOWN)) == sorted([str(read_there.pk), str(kept.pk)])

    elsewhere = tab(asgi_context(), login=("alice", "pw-alice"))
    item = dashboard_items(elsewhere).filter(has_text="Pushed note 0")
    item.get_by_role("button", name="Mark as read").click()

    expect(bell_of(here)).to_have_accessible_name(unread_name(1))
    messages = poll(lambda: worker.evaluate("self.__messages"))
    assert {"type": "inbox:read", "tags": [str(read_there.pk)], "all": False, "badge": 1} in messages
    assert poll(lambda: here.evaluate(SHOWN) == [str(kept.pk)]), here.evaluate(SHOWN)

    # "Mark all as read" elsewhere: no unread left, so no OS notification stays.
    elsewhere.get_by_role("button", name="Mark all as read").click()
    expect(bell_of(here)).to_have_accessible_name(unread_name(0))
    assert poll(lambda: here.evaluate(SHOWN) == []), here.evaluate(SHOWN)
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
