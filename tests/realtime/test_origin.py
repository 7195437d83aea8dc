"""Who may open the socket: a page of the site's own origin (scheme, host and port: the
socket's own, or one of CSRF_TRUSTED_ORIGINS), never a page of another port or scheme of the
same host, which a browser sends the site's cookies from all the same."""

from __future__ import annotations

import pytest

from .conftest import communicator, login_cookie, run

pytestmark = pytest.mark.django_db(transaction=True)


def opens(cookie: str, origin: str | None, *, host: str = "testserver", headers=()) -> bool:
    """Whether a socket with this Origin (on this Host) gets past the handshake and stays open."""

    async def scenario():
        comm = communicator(cookie, origin=origin, host=host, headers=headers)
        connected, _ = await comm.connect()
        if connected:
            assert await comm.receive_nothing(0.1)  # not closed at once (4401)
            await comm.disconnect()
        return connected

    return run(scenario)


def test_the_sites_own_origin_opens_it(users):
    assert opens(login_cookie(users["alice"]), "http://testserver")


@pytest.mark.parametrize(
    "origin",
    [
        "http://testserver:8081",  # another port of the same host: another origin
        "https://testserver",  # another scheme
        "http://testserver.evil.example",
        "http://evil.example",
        "null",
        None,
    ],
)
def test_any_other_origin_is_refused_at_the_handshake(users, origin):
    assert not opens(login_cookie(users["alice"]), origin)


def test_the_pages_origin_on_another_port_opens_it_when_trusted(users, settings):
    """make run: pages come from port 8000, the socket is on 8001 (INBOX_SOCKET_PORT); the pages'
    origin is listed in CSRF_TRUSTED_ORIGINS. Other ports of the host stay refused."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1:8000"]
    cookie = login_cookie(users["alice"])
    assert opens(cookie, "http://127.0.0.1:8000", host="127.0.0.1:8001")
    assert not opens(cookie, "http://127.0.0.1:8002", host="127.0.0.1:8001")
    assert not opens(cookie, "https://127.0.0.1:8000", host="127.0.0.1:8001")


def test_trusted_origins_may_name_subdomains(users, settings):
    settings.ALLOWED_HOSTS = ["ws.example.com"]
    settings.CSRF_TRUSTED_ORIGINS = ["http://*.example.com"]
    cookie = login_cookie(users["alice"])
    assert opens(cookie, "http://www.example.com", host="ws.example.com")
    assert not opens(cookie, "https://www.example.com", host="ws.example.com")
    assert not opens(cookie, "http://www.example.org", host="ws.example.com")


def test_a_host_outside_allowed_hosts_is_refused_even_from_its_own_origin(users):
    """DNS rebinding: evil.example resolves to the site; the page and the socket agree."""
    assert not opens(login_cookie(users["alice"]), "http://evil.example", host="evil.example")


def test_behind_a_tls_proxy_the_secure_origin_opens_it(users, settings):
    """The proxy says the request came over TLS as Django's SECURE_PROXY_SSL_HEADER names."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    cookie = login_cookie(users["alice"])
    proto = [(b"x-forwarded-proto", b"https")]
    assert opens(cookie, "https://testserver", headers=proto)
    assert not opens(cookie, "http://testserver", headers=proto)
    assert not opens(cookie, "https://testserver")
