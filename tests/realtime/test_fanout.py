"""Events reach the right sockets, as the same partials the views render."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client
from django.utils import timezone

from inbox.api import notify
from inbox.models import Notification
from inbox.push.tokens import READ_TOKEN_SALT
from inbox.realtime.hub import get_hub
from inbox.web import items

from .conftest import communicator, db, hello, login_cookie, open_page, run

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "b" * 64


def notification_of(user, text) -> Notification:
    return Notification.objects.select_related("message").get(recipient=user, message__text=text)


def browser(user, tab: str) -> Client:
    """A logged-in browser whose htmx requests come from tab `tab`."""
    client = Client(headers={"X-Inbox-Tab": tab, "HX-Request": "true"})
    client.force_login(user)
    return client


TRANSPORTS = pytest.mark.parametrize("transport", ["database", "layer"])  # layer: in-memory here


@TRANSPORTS
def test_a_notification_reaches_the_dashboard_with_item_badge_and_announcement(users, settings, transport):
    settings.INBOX_REALTIME_TRANSPORT = transport
    cookie = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(cookie, page="dashboard", csrf=TOKEN)
        await db(notify)(users["alice"], "Deploy at <5pm>", url="/deploys/")
        frame = await page.receive_until("Deploy at")
        assert 'hx-swap-oob="afterbegin:#inbox-list .items"' in frame
        assert "Deploy at &lt;5pm&gt;" in frame and "<5pm>" not in frame  # escaped, as the view does
        assert 'href="/deploys/"' in frame
        assert "Notifications, 1 unread" in frame  # the badge partial
        assert "New notification: Deploy at &lt;5pm&gt;" in frame  # the live region
        n = await db(notification_of)(users["alice"], "Deploy at <5pm>")
        assert f'id="notification-{n.pk}"' in frame and f"/inbox/{n.pk}/read/" in frame
        assert f'value="{TOKEN}"' in frame  # the page's CSRF token in the item's forms
        assert await page.data_until(lambda d: d["badge"] == 1) == {"badge": 1, "read": []}
        await page.comm.disconnect()

    run(scenario)


def test_a_users_socket_never_receives_another_users_events(users):
    alice, bob = users["alice"], users["bob"]
    notify(alice, "For Alice only")
    mine = notification_of(alice, "For Alice only")
    alice_browser = browser(alice, "tab-9")
    bob_cookie, alice_cookie = login_cookie(bob), login_cookie(alice)

    async def scenario():
        bobs = await open_page(bob_cookie, page="dashboard", shown=[mine.pk], dropdown=True)
        alices = await open_page(alice_cookie, page="dashboard", tab="tab-2")
        await db(notify)(alice, "Secret plans")
        await db(alice_browser.post)(f"/inbox/{mine.pk}/read/", {"place": "all"})
        await db(alice_browser.post)(f"/inbox/{mine.pk}/delete/", {"place": "all"})
        await alices.receive_until("Secret plans")
        await alices.data_until(lambda d: d["read"] == [str(mine.pk)])
        assert await bobs.nothing(0.3)
        assert bobs.html == [] and bobs.data == []
        await bobs.comm.disconnect()
        await alices.comm.disconnect()

    run(scenario)


def test_only_what_the_page_shows_is_updated(users):
    cookie = login_cookie(users["alice"])

    async def scenario():
        other = await open_page(cookie, page="other")
        later_page = await open_page(cookie, page="dashboard", top=False)
        unread_list = await open_page(cookie, page="dashboard", filter="unread")
        dropdown = await open_page(cookie, page="other", dropdown=True, csrf=TOKEN)
        await db(notify)(users["alice"], "Coffee is ready")
        for page in (other, later_page):
            frame = await page.receive_until("Coffee is ready")
            assert "inbox-badge" in frame and "afterbegin" not in frame and "bell-panel" not in frame
        assert "afterbegin" in await unread_list.receive_until("Coffee is ready")
        frame = await dropdown.receive_until("Coffee is ready")
        assert 'id="bell-panel" hx-swap-oob="innerMorph"' in frame and "Mark all as read" in frame
        assert "afterbegin" not in frame
        for page in (other, later_page, unread_list, dropdown):
            await page.comm.disconnect()

    run(scenario)


@TRANSPORTS
def test_read_in_one_tab_updates_the_other_tabs_but_not_its_own_item(users, settings, transport):
    settings.INBOX_REALTIME_TRANSPORT = transport
    alice = users["alice"]
    notify(alice, "Quarterly report")
    n = notification_of(alice, "Quarterly report")
    cookie = login_cookie(alice)
    acting = browser(alice, "tab-1")

    async def scenario():
        tab1 = await open_page(cookie, page="dashboard", tab="tab-1", shown=[n.pk], newest=n.cursor)
        tab2 = await open_page(cookie, page="dashboard", tab="tab-2", shown=[n.pk], newest=n.cursor)
        unread_tab = await open_page(cookie, page="dashboard", filter="unread", tab="tab-3", shown=[n.pk])
        dropdown_tab = await open_page(cookie, page="other", tab="tab-4", dropdown=True)

        await db(acting.post)(f"/inbox/{n.pk}/read/", {"place": "all"})
        frame = await tab2.receive_until(f'id="notification-{n.pk}"')
        assert f'<li hx-swap-oob="outerMorph" id="notification-{n.pk}"' in frame
        assert "Mark as unread" in frame and "Notifications, 0 unread" in frame
        assert await tab2.data_until(lambda d: True) == {"badge": 0, "read": [str(n.pk)]}
        gone = await unread_tab.receive_until(f'id="notification-{n.pk}"')
        assert f'<li id="notification-{n.pk}" hx-swap-oob="delete"></li>' in gone
        assert "caught up" in await dropdown_tab.receive_until("bell-panel")
        # The acting tab: the badge and the data frame (its other device's OS notification
        # closes), never its own item again.
        own = await tab1.receive_until("inbox-badge")
        assert "notification-" not in own
        assert (await tab1.data_until(lambda d: True))["read"] == [str(n.pk)]

        await db(acting.post)(f"/inbox/{n.pk}/unread/", {"place": "all"})
        frame = await tab2.receive_until(f'id="notification-{n.pk}"')
        assert "Mark as read" in frame and "Notifications, 1 unread" in frame

        await db(acting.post)(f"/inbox/{n.pk}/delete/", {"place": "all"})
        frame = await tab2.receive_until(f'id="notification-{n.pk}"')
        assert f'<li id="notification-{n.pk}" hx-swap-oob="delete"></li>' in frame
        assert (await tab2.data_until(lambda d: d["read"]))["read"] == [str(n.pk)]
        for page in (tab1, tab2, unread_tab, dropdown_tab):
            await page.comm.disconnect()

    run(scenario)


def test_mark_all_read_updates_the_other_tabs(users):
    alice = users["alice"]
    for text in ("One", "Two"):
        notify(alice, text)
    one, two = notification_of(alice, "One"), notification_of(alice, "Two")
    cookie = login_cookie(alice)
    acting = browser(alice, "tab-1")

    async def scenario():
        shown = [one.pk, two.pk]
        all_tab = await open_page(cookie, page="dashboard", tab="tab-2", shown=shown)
        unread_tab = await open_page(cookie, page="dashboard", filter="unread", tab="tab-3", shown=shown)
        await db(acting.post)("/inbox/read-all/", {"place": "all"})
        frame = await all_tab.receive_until("Mark as unread")
        assert frame.count("Mark as unread") == 2 and "Notifications, 0 unread" in frame
        assert (await all_tab.data_until(lambda d: True)) == {"badge": 0, "read": [], "all_read": True}
        frame = await unread_tab.receive_until('hx-swap-oob="delete"')
        assert frame.count('hx-swap-oob="delete"') == 2
        for page in (all_tab, unread_tab):
            await page.comm.disconnect()

    run(scenario)


def test_read_from_a_push_notification_updates_open_pages(users, client):
    alice = users["alice"]
    notify(alice, "Pushed")
    n = notification_of(alice, "Pushed")
    token = signing.dumps(n.pk, salt=READ_TOKEN_SALT)
    cookie = login_cookie(alice)

    async def scenario():
        page = await open_page(cookie, page="dashboard", shown=[n.pk])
        body = {"token": token}
        response = await db(client.post)("/inbox/push/read/", body, content_type="application/json")
        assert response.status_code == 204
        assert "Mark as unread" in await page.receive_until(f"notification-{n.pk}")
        assert (await page.data_until(lambda d: True)) == {"badge": 0, "read": [str(n.pk)]}
        await page.comm.disconnect()

    run(scenario)


def test_hello_catches_up_on_what_the_page_missed(users):
    alice = users["alice"]
    for text in ("Kept", "Read meanwhile", "Deleted meanwhile"):
        notify(alice, text)
    kept, read, deleted = (notification_of(alice, t) for t in ("Kept", "Read meanwhile", "Deleted meanwhile"))
    newest = deleted.cursor  # the page's top item when it was loaded
    read.mark_read()
    Notification.objects.filter(pk=deleted.pk).delete()
    notify(alice, "Sent while away")
    new = notification_of(alice, "Sent while away")
    cookie = login_cookie(alice)
    elsewhere = browser(alice, "elsewhere")

    async def scenario():
        page = await open_page(cookie, page="dashboard", newest=newest, shown=[kept.pk, read.pk, deleted.pk])
        frame = "".join(page.catch_up)
        assert "afterbegin" in frame and f'id="notification-{new.pk}"' in frame  # prepended
        assert f'<li id="notification-{deleted.pk}" hx-swap-oob="delete">' in frame  # gone
        read_item = frame.split(f'id="notification-{read.pk}"')[1].split("</li>")[0]
        assert "Mark as unread" in read_item  # re-rendered as read
        assert "Notifications, 2 unread" in frame
        # The state followed: a later change to the prepended item reaches this page.
        await db(elsewhere.post)(f"/inbox/{new.pk}/read/", {"place": "all"})
        assert "Mark as unread" in await page.receive_until(f'id="notification-{new.pk}"')
        await page.comm.disconnect()

    run(scenario)


def test_hello_with_more_than_a_page_new_gets_the_first_page(users, settings):
    settings.INBOX_PAGE_SIZE = 3
    alice = users["alice"]
    notify(alice, "Old")
    old = notification_of(alice, "Old")
    for i in range(4):
        notify(alice, f"New {i}")
    cookie = login_cookie(alice)

    async def scenario():
        page = await open_page(cookie, page="dashboard", newest=old.cursor, shown=[old.pk], csrf=TOKEN)
        frame = "".join(page.catch_up)
        assert '<section id="inbox-list" hx-swap-oob="outerMorph"' in frame
        assert all(f"New {i}" in frame for i in (1, 2, 3)) and "Load more" in frame
        assert "afterbegin" not in frame
        await page.comm.disconnect()

    run(scenario)


def test_hello_with_the_dropdown_open_gets_its_content(users):
    notify(users["alice"], "In the dropdown")
    cookie = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(cookie, dropdown=True)
        assert "In the dropdown" in "".join(page.catch_up)
        await page.comm.disconnect()

    run(scenario)


def test_an_expired_notification_leaves_the_page(users):
    alice = users["alice"]
    notify(alice, "Flash sale", expires_at=timezone.now() + timedelta(seconds=0.6))
    n = notification_of(alice, "Flash sale")
    cookie = login_cookie(alice)

    async def scenario():
        page = await open_page(cookie, page="dashboard", shown=[n.pk])
        frame = await page.receive_until(f'<li id="notification-{n.pk}" hx-swap-oob="delete">', timeout=3)
        assert "Notifications, 0 unread" in frame
        assert (await page.data_until(lambda d: True)) == {"badge": 0, "read": [str(n.pk)]}
        await page.comm.disconnect()

    run(scenario)


@pytest.mark.parametrize("count", [2, 6])
def test_a_broadcast_is_one_event_two_queries_and_one_render_per_process(
    count, settings, django_assert_num_queries
):
    settings.INBOX_REALTIME_POLL_SECONDS = 60  # this test hands the event to the hub itself...
    settings.INBOX_REALTIME_EXPIRY_SECONDS = 60  # ... and counts no other query meanwhile
    people = [User.objects.create_user(f"user{i}") for i in range(count)]
    cookies = [login_cookie(user) for user in people]
    sent = notify(User.objects.all(), "All hands at 3")

    async def scenario():
        pages = [await open_page(cookie, page="dashboard") for cookie in cookies]
        hub = get_hub()
        events = hub.events
        items.cache_clear()
        # The message; its rows with the recipients' badges (one query per 1,000 connected users).
        counting = django_assert_num_queries(2)
        await db(counting.__enter__)()  # on the test's thread, where the hub's queries run
        await hub.dispatch([{"type": "sent", "message": sent.message.pk}])
        await db(counting.__exit__)(None, None, None)
        assert hub.events == events + 1
        # One render for the broadcast, looked up once: each socket only fills in its id and token.
        assert items.cache_info().misses == 1 and items.cache_info().hits == 0
        for page in pages:
            assert "All hands at 3" in await page.receive_until("All hands at 3")
            await page.comm.disconnect()

    run(scenario)


def test_each_event_is_one_frame_per_socket_with_the_html_and_the_data(users):
    """One JSON frame per event and socket: hx-ws swaps its "content", realtime.js reads the
    rest (a second frame per socket cost the broadcast as much again)."""
    alice = users["alice"]
    cookie = login_cookie(alice)
    acting = browser(alice, "tab-1")

    async def scenario():
        page = await open_page(cookie, page="dashboard", dropdown=True, tab="tab-2", csrf=TOKEN)
        await db(notify)(alice, "One frame")
        html = await page.receive_until("One frame")
        assert "afterbegin" in html and "bell-panel" in html and "New notification: One frame" in html
        assert page.data == [{"badge": 1, "read": []}] and page.frames == 1
        assert await page.nothing(0.3)
        n = await db(notification_of)(alice, "One frame")
        await db(acting.post)(f"/inbox/{n.pk}/read/", {"place": "all"})
        html = await page.receive_until(f'id="notification-{n.pk}"')
        assert "Mark as unread" in html and "Notifications, 0 unread" in html
        assert page.data[-1] == {"badge": 0, "read": [str(n.pk)]} and page.frames == 2
        assert await page.nothing(0.3)
        await page.comm.disconnect()

    run(scenario)


def test_a_frame_is_json_whose_content_htmx_swaps(users):
    cookie = login_cookie(users["alice"])

    async def scenario():
        comm = communicator(cookie)
        await comm.connect()
        await comm.send_to(text_data=hello())
        frame = json.loads(await comm.receive_from())
        assert set(frame) == {"badge", "read", "content"} and frame["badge"] == 0 and frame["read"] == []
        assert 'id="inbox-badge"' in frame["content"] and "hx-swap-oob" in frame["content"]
        await comm.disconnect()

    run(scenario)


def test_a_socket_holds_no_channel_layer_channel(users, settings):
    """The hub listens to the channel layer once per process; a socket subscribes to nothing."""
    settings.INBOX_REALTIME_TRANSPORT = "layer"
    cookie = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(cookie)
        (consumer,) = get_hub().users[users["alice"].pk]
        assert consumer.channel_layer is None and not hasattr(consumer, "channel_name")
        await db(notify)(users["alice"], "Through the layer")
        await page.receive_until("Through the layer")
        await page.comm.disconnect()

    run(scenario)
