"""The session's end closes its socket though the database fails when it is checked: the
expiry timer and the account checks try again with backoff, and a session whose end has come
while the database cannot say otherwise is closed as real time down (4503: the page polls, and
its next socket checks the session afresh). Before, one database error killed the timer (the
socket kept receiving notifications after its session ended) and the account check with it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection
from django.utils import timezone

from inbox.realtime import session_end
from inbox.realtime.hub import get_hub

from .conftest import close_code, db, login_cookie, open_page, run

pytestmark = pytest.mark.django_db(transaction=True)
TABLES = (Session._meta.db_table, User._meta.db_table)


class SessionsDown:
    """A database error for every query on the sessions or users table while `down` (Django's
    public hook around each query of a connection)."""

    def __init__(self):
        self.down = False
        self.refused = 0

    def __call__(self, execute, sql, params, many, context):
        if self.down and any(table in sql for table in TABLES):
            self.refused += 1
            raise OperationalError("the sessions table is unreachable")
        return execute(sql, params, many, context)


def test_the_expiry_timer_survives_a_database_error_and_closes_the_ended_session(users):
    cookie = login_cookie(users["alice"])
    Session.objects.filter(session_key=cookie).update(expire_date=timezone.now() + timedelta(seconds=0.5))
    failing = SessionsDown()

    async def scenario():
        page = await open_page(cookie)
        failing.down = True  # when the timer fires, the database fails
        assert await close_code(page.comm, timeout=5) == 4503
        assert failing.refused >= 1

    # The consumer's queries run on this thread's connection (see conftest: run()).
    with connection.execute_wrapper(failing):
        run(scenario)


def test_an_account_check_that_fails_is_retried_and_closes_the_socket(users, monkeypatch):
    monkeypatch.setattr(session_end, "CHECK_RETRY_SECONDS", 0.05)
    alice = users["alice"]
    cookie = login_cookie(alice)
    failing = SessionsDown()

    async def scenario():
        page = await open_page(cookie)
        # The password changed elsewhere (no signal: only the check can tell), and the account
        # event's check meets a database that fails, twice.
        await db(User.objects.filter(pk=alice.pk).update)(password="md5$other$0123")
        failing.down = True
        await get_hub().account(alice.pk)  # raised before, and nothing tried again
        while failing.refused < 2:
            await page.nothing(0.02)
        assert failing.refused >= 2  # tried again, with backoff
        failing.down = False
        assert await close_code(page.comm, timeout=5) == 4401

    with connection.execute_wrapper(failing):
        run(scenario)
