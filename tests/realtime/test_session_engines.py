"""The socket's session is read through each session engine's public API: a database engine's
row, or the store's own load() (cache, signed cookies). A session verified by a key of
SECRET_KEY_FALLBACKS logs in and keeps its key: the socket cannot hand its browser a new cookie."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session

from inbox.realtime import sessions

from .conftest import close_code, db, login_cookie, open_page, run

pytestmark = pytest.mark.django_db(transaction=True)
ENGINES = {
    "db": "django.contrib.sessions.backends.db",
    "cached_db": "django.contrib.sessions.backends.cached_db",
    "cache": "django.contrib.sessions.backends.cache",
    "signed_cookies": "django.contrib.sessions.backends.signed_cookies",
}


@pytest.mark.parametrize("engine", ENGINES.values(), ids=ENGINES.keys())
def test_each_engine_logs_the_socket_in_and_a_password_change_closes_it(users, settings, engine):
    settings.SESSION_ENGINE = engine
    settings.INBOX_REALTIME_SESSION_CHECK_SECONDS = 0.2
    alice = users["alice"]
    cookie = login_cookie(alice)
    assert sessions.live_sessions([cookie, "no-such-session"]) == {cookie}

    async def scenario():
        page = await open_page(cookie)  # the catch-up came: logged in
        await db(User.objects.filter(pk=alice.pk).update)(password="md5$other$0123")  # no signal
        assert await close_code(page.comm, timeout=5) == 4401

    run(scenario)


def test_a_forged_signed_cookie_is_no_session(settings):
    settings.SESSION_ENGINE = ENGINES["signed_cookies"]
    assert sessions.live_sessions(["forged-cookie-value"]) == set()
    assert sessions.session_user("forged-cookie-value") is None


def test_a_session_verified_by_a_fallback_secret_logs_in_and_keeps_its_key(users, settings):
    cookie = login_cookie(users["alice"])
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a new secret key, rotated after the login " * 2

    found = sessions.session_user(cookie)

    assert found is not None and found[0] == users["alice"].pk
    assert Session.objects.filter(session_key=cookie).exists()  # not cycled: the browser keeps it
    assert Session.objects.count() == 1
