"""A socket closes (4401) within INBOX_REALTIME_SESSION_CHECK_SECONDS once its session no
longer logs its user in, though no event said so: a session row deleted (an admin, a script,
clearsessions), a user deactivated by a bulk update (no signal fires). Each web process checks
all its sockets at once: a query per 1,000 sessions and one per 1,000 users, not one per socket."""

from __future__ import annotations

import asyncio
import logging

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import DatabaseError

from inbox.realtime import sessions

from .conftest import close_code, db, login_cookie, open_page, run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_check(settings):
    settings.INBOX_REALTIME_SESSION_CHECK_SECONDS = 0.2


def delete_session(cookie, user) -> None:
    Session.objects.filter(session_key=cookie).delete()


def deactivate(cookie, user) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)


def change_password(cookie, user) -> None:
    User.objects.filter(pk=user.pk).update(password="md5$other$0123")


@pytest.mark.parametrize(
    "change",
    [delete_session, deactivate, change_password],
    ids=["session deleted", "bulk deactivated", "bulk password"],
)
def test_a_socket_whose_session_ended_without_an_event_is_closed(users, change):
    alice, bob = login_cookie(users["alice"]), login_cookie(users["bob"])

    async def scenario():
        alices, bobs = await open_page(alice), await open_page(bob)
        await db(change)(alice, users["alice"])
        assert await close_code(alices.comm, timeout=5) == 4401
        assert await bobs.nothing(0.5)  # bob's socket lives on (checked twice meanwhile)
        await bobs.comm.disconnect()

    run(scenario)


@pytest.fixture
def waiting_server(monkeypatch):
    """A server whose send waits for its transport before it returns, as uvicorn's does (the
    test communicator's send returns at once)."""
    import config.asgi

    application = config.asgi.application

    async def served(scope, receive, send):
        async def sending(message):
            await asyncio.sleep(0)
            await send(message)

        await application(scope, receive, sending)

    monkeypatch.setattr(config.asgi, "application", served)


def test_the_last_socket_whose_session_ended_gets_its_close(users, waiting_server):
    """The process's only socket: closing it empties the check's set of sockets from within the
    check itself, which must still send the close (not cancel itself half-way)."""
    alice = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(alice)
        await db(delete_session)(alice, users["alice"])
        assert await close_code(page.comm, timeout=5) == 4401

    run(scenario)


def test_a_socket_whose_login_still_holds_stays_open(users):
    alice = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(alice)
        await db(User.objects.filter(pk=users["alice"].pk).update)(first_name="Alice")  # not a login change
        assert await page.nothing(0.7)
        await page.comm.disconnect()

    run(scenario)


def test_a_database_error_is_logged_once_and_the_check_runs_again(users, monkeypatch, caplog):
    alice = login_cookie(users["alice"])
    real, failures = sessions.live_sessions, []

    def failing(keys):
        if len(failures) < 3:
            failures.append(keys)
            raise DatabaseError("the database went away")
        return real(keys)

    monkeypatch.setattr(sessions, "live_sessions", failing)

    async def scenario():
        page = await open_page(alice)
        await db(delete_session)(alice, users["alice"])
        assert await close_code(page.comm, timeout=5) == 4401  # after three failed checks

    with caplog.at_level(logging.INFO, logger="inbox.realtime"):
        run(scenario)
    assert len(failures) == 3
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["The real-time session check failed; it runs again in 0.2 s"]
    assert any("session check works again" in r.getMessage() for r in caplog.records)


def test_one_check_of_many_sockets_is_two_queries(users, django_assert_num_queries):
    cookies = [login_cookie(users[name]) for name in ("alice", "alice", "bob")]
    with django_assert_num_queries(1):
        assert sessions.live_sessions([*cookies, "gone"]) == set(cookies)
    with django_assert_num_queries(1):
        found = sessions.login_fingerprints([users["alice"].pk, users["bob"].pk, 999])
    assert set(found) == {users["alice"].pk, users["bob"].pk}
