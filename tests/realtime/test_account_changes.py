"""A socket lives only as long as its session would still log in: a password change (Django then
logs out the user's other sessions), a deactivated account or a deleted user closes it, as the
next HTTP request of that session would be refused. A login elsewhere changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User, update_last_login
from django.test import Client

from .conftest import close_code, db, login_cookie, open_page, run

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
