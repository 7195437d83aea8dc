"""Live updates respect the dashboard's kind and level filters: a new item is prepended only to
lists it belongs in, and the catch-up fills a filtered list with that list's items only."""

from __future__ import annotations

import pytest

from inbox.api import notify
from inbox.models import Notification
from inbox.realtime.messages import Invalid, parse

from .conftest import db, hello, login_cookie, open_page, run

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "c" * 64


def notification_of(user, text) -> Notification:
    return Notification.objects.select_related("message").get(recipient=user, message__text=text)


def test_a_new_item_is_prepended_only_to_the_lists_it_matches(users):
    cookie = login_cookie(users["alice"])

    async def scenario():
        lists = {
            "any": await open_page(cookie, page="dashboard"),
            "mentions": await open_page(cookie, page="dashboard", kind="mention", csrf=TOKEN),
            "warnings": await open_page(cookie, page="dashboard", level="warning"),
            "unread mention warnings": await open_page(
                cookie, page="dashboard", filter="unread", kind="mention", level="warning"
            ),
            "builds": await open_page(cookie, page="dashboard", kind="build.finished"),
            "errors": await open_page(cookie, page="dashboard", level="error"),
            "mention errors": await open_page(cookie, page="dashboard", kind="mention", level="error"),
        }
        await db(notify)(users["alice"], "Bob mentioned you", kind="mention", level="warning")
        for name, page in lists.items():
            frame = await page.receive_until("Bob mentioned you")  # the live region, everywhere
            assert "Notifications, 1 unread" in frame
            prepended = "afterbegin:#inbox-list .items" in frame
            assert prepended == (name in ("any", "mentions", "warnings", "unread mention warnings")), name
        frame = "".join(lists["mentions"].html)
        n = await db(notification_of)(users["alice"], "Bob mentioned you")
        item = frame.split(f'id="notification-{n.pk}"')[1].split("</li>")[0]
        assert '<span class="kind">Mentions</span>' in item
        # The item's forms carry this list's filters back, and this page's token.
        assert 'name="next" value="/inbox/?filter=all&amp;kind=mention"' in item
        assert f'value="{TOKEN}"' in item
        for page in lists.values():
            await page.comm.disconnect()

    run(scenario)


def test_a_state_frame_changes_the_filters(users):
    cookie = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(cookie, page="dashboard", kind="mention")
        await page.comm.send_to(text_data=hello(type="state", page="dashboard", kind="build.finished"))
        assert await page.nothing(0.1)  # a state gets no catch-up
        await db(notify)(users["alice"], "A mention", kind="mention")
        assert "afterbegin" not in await page.receive_until("A mention")
        await db(notify)(users["alice"], "Build 7 passed", kind="build.finished")
        assert "afterbegin" in await page.receive_until("Build 7 passed")
        await page.comm.disconnect()

    run(scenario)


def test_catch_up_prepends_only_what_the_filtered_list_shows(users):
    alice = users["alice"]
    notify(alice, "Old mention", kind="mention")
    old = notification_of(alice, "Old mention")
    notify(alice, "New mention", kind="mention", level="error")
    notify(alice, "New build", kind="build.finished", level="error")
    notify(alice, "New info mention", kind="mention")
    new, build, info = (notification_of(alice, t) for t in ("New mention", "New build", "New info mention"))
    cookie = login_cookie(alice)

    async def scenario():
        page = await open_page(
            cookie, page="dashboard", kind="mention", level="error", newest=old.cursor, shown=[old.pk]
        )
        frame = "".join(page.catch_up)
        assert "afterbegin" in frame and f'id="notification-{new.pk}"' in frame
        assert f'id="notification-{build.pk}"' not in frame and f'id="notification-{info.pk}"' not in frame
        assert "kind=mention&amp;level=error" in frame  # the prepended item's back URL
        # The shown item that does not match the list (an info, not an error) leaves it.
        assert f'<li id="notification-{old.pk}" hx-swap-oob="delete">' in frame
        await page.comm.disconnect()

    run(scenario)


def test_catch_up_first_page_uses_the_filters(users, settings):
    settings.INBOX_PAGE_SIZE = 2
    alice = users["alice"]
    notify(alice, "Old build", kind="build.finished")
    old = notification_of(alice, "Old build")
    for i in range(3):
        notify(alice, f"Build {i}", kind="build.finished")
        notify(alice, f"Chatter {i}", kind="mention")
    cookie = login_cookie(alice)

    async def scenario():
        page = await open_page(
            cookie, page="dashboard", kind="build.finished", newest=old.cursor, shown=[old.pk]
        )
        frame = "".join(page.catch_up)
        assert '<section id="inbox-list" hx-swap-oob="outerMorph"' in frame
        assert 'data-kind="build.finished"' in frame
        assert "Build 2" in frame and "Build 1" in frame and "Chatter" not in frame
        assert "kind=build.finished&amp;after=" in frame  # Load more keeps the filter
        await page.comm.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "hello", "kind": "no-such-kind"}',
        '{"type": "hello", "kind": "Mention"}',
        '{"type": "hello", "kind": ["mention"]}',
        '{"type": "hello", "kind": "' + "m" * 65 + '"}',
        '{"type": "state", "level": "critical"}',
        '{"type": "state", "level": 3}',
    ],
)
def test_an_unknown_kind_or_level_makes_the_frame_ignored(frame):
    with pytest.raises(Invalid):
        parse(frame)


def test_known_kinds_and_levels_are_read():
    assert (
        parse(hello(kind="mention", level="error"))[1].items()
        >= {"kind": "mention", "level": "error"}.items()
    )
    assert parse(hello(kind="", level=""))[1].items() >= {"kind": "", "level": ""}.items()
