"""A socket lives only as long as its session would still log in: a password change (Django then
logs out the user's other sessions), a deactivated account or a deleted user closes it, as the
next HTTP request of that session would be refused. A login elsewhere changes nothing."""

from __future__ import annotations

import asyncio

import pytest
from django.contrib.auth.models import User, update_last_login
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inbox.api import notify
from inbox.realtime.models import RealtimeEvent

from .conftest import close_code, communicator, db, login_cookie, open_page, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_password_change_closes_the_other_sessions_sockets(users):
    alice = users["alice"]
    phone_cookie, laptop_cookie = login_cookie(alice), login_cookie(alice)
    laptop = Client()
    laptop.cookies["sessionid"] = laptop_cookie
    bob_cookie = login_cookie(users["bob"])

    async def scenario():
        phone = await open_page(phone_cookie)
        here = await open_page(laptop_cookie)
        bob = await open_page(bob_cookie)
        response = await db(laptop.post)(
            "/accounts/password_change/",
            {
                "old_password": "pw-alice",
                "new_password1": "A new long pass 42",
                "new_password2": "A new long pass 42",
            },
        )
        assert response.status_code == 302, response.content
        assert await close_code(phone.comm) == 4401  # the phone's session no longer logs in
        # The laptop's session lives on under a new key (Django cycles it), so its page's socket,
        # opened with the old key, closes too: the page reconnects with the new cookie.
        assert await close_code(here.comm) == 4401
        assert await bob.nothing(0.3)
        await bob.comm.disconnect()

    run(scenario)


def deactivate(alice) -> None:
    alice.is_active = False
    alice.save()


@pytest.mark.parametrize("change", [deactivate, User.delete], ids=["deactivated", "deleted"])
def test_a_deactivated_or_deleted_user_loses_their_sockets(users, change):
    cookie = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(cookie)
        await db(change)(await db(User.objects.get)(username="alice"))
        assert await close_code(page.comm) == 4401

    run(scenario)


def test_a_login_elsewhere_leaves_the_sockets_alone(users):
    cookie = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(cookie)
        alice = await db(User.objects.get)(username="alice")
        await db(update_last_login)(None, alice)  # what a login saves (user_logged_in)
        assert await page.nothing(0.5)
        await page.comm.disconnect()

    run(scenario)


def account_events(user) -> int:
    return RealtimeEvent.objects.filter(payload__type="account", payload__user=user.pk).count()


def rename(user) -> None:
    user.first_name = "Alice"
    user.save()


def set_password(user) -> None:
    user.set_password("a new one")
    user.save()


def deactivate_by_save(user) -> None:
    user.is_active = False
    user.save()


def loaded_without_the_password(user) -> None:
    user = User.objects.only("pk", "username").get(pk=user.pk)
    user.password = "md5$other$0123"  # deferred when loaded: whether it changed is unknown
    user.save()


@pytest.mark.parametrize(
    ("change", "events"),
    [
        (rename, 0),
        (lambda user: user.save(update_fields=["email"]), 0),
        (lambda user: User.objects.get(pk=user.pk).save(), 0),  # loaded and saved as it was
        (set_password, 1),
        (deactivate_by_save, 1),
        (loaded_without_the_password, 1),
        (lambda user: user.delete(), 1),
    ],
    ids=["name", "update_fields", "unchanged", "password", "inactive", "deferred password", "deleted"],
)
def test_an_account_event_only_for_a_change_that_can_end_a_session(users, change, events):
    """Every open socket of the user reads their session again on an account event: a save that
    cannot log anyone out (a profile's name, a login's last_login) publishes none."""
    alice = User.objects.get(pk=users["alice"].pk)
    change(alice)
    assert account_events(users["alice"]) == events


def test_telling_whether_a_save_matters_costs_no_query(users):
    """The user as loaded is compared, not read again; and a save that does not matter writes
    no event. (Other apps' receivers, push's among them, have queries of their own.)"""
    alice = User.objects.get(pk=users["alice"].pk)
    alice.first_name = "Alice"
    with CaptureQueriesContext(connection) as queries:
        alice.save()
    mine = [
        q["sql"]
        for q in queries
        if User._meta.db_table in q["sql"] or RealtimeEvent._meta.db_table in q["sql"]
    ]
    assert len(mine) == 1 and mine[0].startswith("UPDATE"), mine


@pytest.fixture
def stuck_closes(monkeypatch):
    """A server whose close of a socket marked `x-stuck` waits until the test ends: a client that
    stopped reading, whose close frame the server cannot write."""
    import config.asgi

    application, released = config.asgi.application, []

    async def served(scope, receive, send):
        stuck = (b"x-stuck", b"1") in scope.get("headers", [])
        release = asyncio.Event()
        released.append(release)

        async def sending(message):
            if stuck and message["type"] == "websocket.close":
                await release.wait()
            await send(message)

        await application(scope, receive, sending)

    monkeypatch.setattr(config.asgi, "application", served)
    yield
    for release in released:
        release.set()


def test_a_socket_slow_to_close_holds_up_no_other(users, stuck_closes):
    """Alice's account changes while her client reads nothing: her socket's close waits, in
    the background; bob's notification, the hub's next event, reaches him meanwhile."""
    alice, bob = users["alice"], users["bob"]
    alice_cookie, bob_cookie = login_cookie(alice), login_cookie(bob)

    async def scenario():
        stuck = communicator(alice_cookie, headers=[(b"x-stuck", b"1")])
        connected, _ = await stuck.connect()
        assert connected
        bobs = await open_page(bob_cookie)
        await db(deactivate)(alice)
        await db(notify)(bob, "For bob while the other socket closes")
        await bobs.receive_until("For bob while the other socket closes", timeout=3)
        await bobs.comm.disconnect()

    run(scenario)
