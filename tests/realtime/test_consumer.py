"""The socket: who may connect, and what closes it."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from inbox.api import notify
from inbox.realtime.consumer import in_thread

from .conftest import close_code, communicator, db, hello, login_cookie, next_output, open_page, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_anonymous_socket_is_closed_with_4401(users):
    async def scenario():
        comm = communicator(cookie=None)
        connected, _ = await comm.connect()
        assert connected  # accepted, then closed with a code the page reads (no reconnect)
        assert await close_code(comm) == 4401

    run(scenario)


def test_a_forged_session_cookie_is_anonymous(users):
    async def scenario():
        comm = communicator(cookie="not-a-session")
        await comm.connect()
        assert await close_code(comm) == 4401

    run(scenario)


@pytest.mark.parametrize("origin", ["http://evil.example", "null", None])
def test_socket_from_another_origin_is_refused(users, origin):
    cookie = login_cookie(users["alice"])

    async def scenario():
        comm = communicator(cookie, origin=origin)
        connected, code = await comm.connect()
        assert not connected  # refused at the handshake (403)

    run(scenario)


def test_other_paths_are_refused(users):
    cookie = login_cookie(users["alice"])

    async def scenario():
        comm = communicator(cookie, path="/inbox/ws/other/")
        connected, _ = await comm.connect()
        assert not connected

    run(scenario)


def test_socket_url_over_plain_http_says_what_it_is(client):
    response = client.get("/inbox/ws/")
    assert response.status_code == 400
    assert "WebSocket" in response.text
    assert "Upgrade" not in response  # hop-by-hop: a WSGI server turns it into a 500
    assert response["X-Inbox-Socket"] == "needs-asgi"  # served by WSGI: the page's socket gives up


def test_the_pages_question_over_plain_http_is_answered_without_an_error(client):
    """realtime.js asks once, when its socket fails to open: a 200 (a 4xx would be logged in the
    browser's console), with the same header."""
    response = client.get("/inbox/ws/", headers={"X-Inbox-Socket": "probe"})
    assert response.status_code == 200
    assert response["X-Inbox-Socket"] == "needs-asgi"


def test_the_socket_url_over_plain_http_through_asgi_says_nothing_is_missing(users):
    """Through the ASGI server (which does upgrade; a failed open there is worth retrying) the
    header is absent."""
    from config.asgi import application

    async def scenario():
        communicator = HttpCommunicator(
            application, "GET", "/inbox/ws/", headers=[(b"x-inbox-socket", b"probe")]
        )
        return await communicator.get_response()

    response = run(scenario)
    assert response["status"] == 200
    assert b"x-inbox-socket" not in {name.lower() for name, _ in response["headers"]}


def test_connect_reads_the_session_once_with_its_user(users, settings, django_assert_num_queries):
    """Two queries (the session's row, the user), in one trip to a worker thread: no second read
    of the session for its expiry."""
    settings.INBOX_REALTIME_TRANSPORT = "layer"  # (in memory) the hub's own queries...
    settings.INBOX_REALTIME_EXPIRY_SECONDS = 60  # ... are not counted here
    cookie = login_cookie(users["alice"])

    async def scenario():
        comm = communicator(cookie)
        counting = django_assert_num_queries(2)
        await db(counting.__enter__)()  # on the test's thread, where the consumer's queries run
        connected, _ = await comm.connect()
        assert connected and await comm.receive_nothing(0.1)  # open: not closed with 4401
        await db(counting.__exit__)(None, None, None)
        await comm.disconnect()

    run(scenario)


def test_a_session_from_before_a_password_change_is_refused(users):
    cookie = login_cookie(users["alice"])
    users["alice"].set_password("A new long pass 42")
    users["alice"].save()

    async def scenario():
        comm = communicator(cookie)
        await comm.connect()
        assert await close_code(comm) == 4401

    run(scenario)
    assert not Session.objects.filter(session_key=cookie).exists()  # flushed, as a request would


def deactivate(cookie, alice) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)


def expire(cookie, alice) -> None:
    Session.objects.filter(session_key=cookie).update(expire_date=timezone.now() - timedelta(seconds=1))


@pytest.mark.parametrize("change", [deactivate, expire], ids=["inactive user", "expired session"])
def test_a_session_that_no_longer_logs_in_is_refused(users, change):
    cookie = login_cookie(users["alice"])
    change(cookie, users["alice"])

    async def scenario():
        comm = communicator(cookie)
        await comm.connect()
        assert await close_code(comm) == 4401

    run(scenario)


def test_a_trip_to_a_worker_thread_leaves_the_sockets_context_alone(users):
    """asgiref sets every context variable again after database_sync_to_async (new objects);
    in_thread() keeps that out of the long-lived socket's context."""

    def context():
        return dict(contextvars.copy_context())

    async def scenario():
        before = context()
        await in_thread(lambda: None)
        assert all(context()[var] is value for var, value in before.items())
        await database_sync_to_async(lambda: None)()  # what in_thread() keeps out
        assert any(context()[var] is not value for var, value in before.items())

    run(scenario)


def test_logout_closes_that_sessions_sockets_only(users):
    alice_cookie = login_cookie(users["alice"])
    other_cookie = login_cookie(users["alice"])  # the same user on another device
    browser = Client()
    browser.cookies["sessionid"] = alice_cookie

    async def scenario():
        page = await open_page(alice_cookie)
        other = await open_page(other_cookie)
        await db(browser.post)("/accounts/logout/")
        assert await close_code(page.comm) == 4401
        assert await other.nothing()  # still open
        await other.comm.disconnect()

    run(scenario)


def test_session_expiry_closes_the_socket(users):
    cookie = login_cookie(users["alice"])
    Session.objects.filter(session_key=cookie).update(expire_date=timezone.now() + timedelta(seconds=0.5))

    async def scenario():
        page = await open_page(cookie)
        assert await close_code(page.comm) == 4401

    run(scenario)


def test_an_extended_session_stays_open(users):
    cookie = login_cookie(users["alice"])
    Session.objects.filter(session_key=cookie).update(expire_date=timezone.now() + timedelta(seconds=0.3))

    async def scenario():
        page = await open_page(cookie)
        later = timezone.now() + timedelta(days=1)
        await db(Session.objects.filter(session_key=cookie).update)(expire_date=later)
        assert await page.nothing(0.6)  # the timer fired, found the new expiry, and waits again
        await page.comm.disconnect()

    run(scenario)


MALFORMED = [
    "not json",
    "",
    "[1, 2]",
    '"hello"',
    "null",
    '{"type": "hello", "tab": "x' + "y" * 5000 + '"}',  # larger than 4 KB
    "[" * 3000 + "]" * 3000,  # nested past Python's recursion limit
    '{"type": "hello", "shown": [[[[[1]]]]]}',  # nested past the limit
    '{"type": "hello", "tab": "a\\u0000b"}',  # NUL
    '{"type": "hello", "tab": 12}',
    '{"type": "hello", "shown": "1,2"}',
    '{"type": "hello", "shown": [true]}',
    '{"type": "hello", "shown": ["²"]}',
    '{"type": "hello", "shown": [99999999999999999999999]}',
    '{"type": "hello", "newest": "99999999999999999999.1"}',
    '{"type": "hello", "csrf": "<script>"}',
    '{"type": "hello", "page": ["dashboard"]}',
    '{"type": "hello", "top": "yes"}',
    '{"type": "subscribe", "user": 2}',
    '{"type": null}',
    "\ud800",
    '{"type": "hello", "kind": "no-such-kind"}',
    '{"type": "state", "level": "critical"}',
]


def test_malformed_frames_are_ignored_and_the_socket_keeps_working(users):
    cookie = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(cookie)
        for frame in MALFORMED[:9]:
            await page.comm.send_input({"type": "websocket.receive", "text": frame})
        await page.comm.send_to(bytes_data=b"\x00\x01")  # the 10th strike would close: 9 + this one
        # ... so it is closed now, with 1003, never a crash.
        assert await close_code(page.comm) == 1003

    run(scenario)


@pytest.mark.parametrize("frame", MALFORMED)
def test_each_malformed_frame_is_ignored(users, frame):
    cookie = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(cookie)
        await page.comm.send_input({"type": "websocket.receive", "text": frame})
        assert await page.nothing(0.1)  # no answer, no close
        # still served: a notification reaches it
        await db(notify)(users["alice"], "Still here")
        await page.receive_until("Still here")
        await page.comm.disconnect()

    run(scenario)


def test_hellos_are_rate_limited(users):
    cookie = login_cookie(users["alice"])

    async def scenario():
        page = await open_page(cookie)
        for _ in range(30):
            await page.comm.send_to(text_data=hello())
        answered = 0
        while (message := await next_output(page.comm, 2))["type"] == "websocket.send":
            answered += "inbox-badge" in message["text"]
        assert 1 <= answered <= 5  # a burst of catch-ups, then the rest are abuse...
        assert message["code"] == 1003  # ... and closes the socket

    run(scenario)


def test_a_client_that_takes_no_frames_is_closed_and_holds_up_no_one(users, monkeypatch, settings):
    """A socket whose sends stop (a client that stopped reading fills its buffer) is closed with
    1013 after INBOX_REALTIME_SEND_SECONDS; the other recipients get the frame, and one whose socket went away
    under the hub's feet is skipped."""
    from inbox.realtime.hub import get_hub

    settings.INBOX_REALTIME_SEND_SECONDS = 0.2
    alice_cookie, bob_cookie = login_cookie(users["alice"]), login_cookie(users["bob"])
    carol = User.objects.create_user("carol")
    carol_cookie = login_cookie(carol)

    async def stuck(text_data=None, bytes_data=None, close=False):
        await asyncio.Event().wait()

    async def gone(text_data=None, bytes_data=None, close=False):
        raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'")

    async def scenario():
        alice, bob, carol_page = [await open_page(c) for c in (alice_cookie, bob_cookie, carol_cookie)]
        hub = get_hub()
        (alice_socket,) = hub.users[users["alice"].pk]
        (carol_socket,) = hub.users[carol.pk]
        alice_socket.send = stuck
        carol_socket.send = gone
        await db(notify)(User.objects.all(), "To everyone")
        assert "To everyone" in await bob.receive_until("To everyone")
        assert await close_code(alice.comm) == 1013
        assert users["alice"].pk not in hub.users
        assert carol.pk in hub.users  # skipped, not closed: its own disconnect unregisters it
        await db(notify)(users["bob"], "Still served")
        assert "Still served" in await bob.receive_until("Still served")
        for page in (bob, carol_page):
            await page.comm.disconnect()

    run(scenario)


def test_a_stuck_clients_close_holds_up_no_one_either(users, monkeypatch, settings):
    """The server's close of a socket whose buffer is full waits too (a close frame to write):
    it runs in the background, and the next recipient has the frame at once."""
    from inbox.realtime.hub import get_hub

    settings.INBOX_REALTIME_SEND_SECONDS = 0.2
    alice_cookie, bob_cookie = login_cookie(users["alice"]), login_cookie(users["bob"])
    closing = asyncio.Event()

    async def stuck(*args, **kwargs):
        await asyncio.Event().wait()

    async def stuck_close(code=None, reason=None):
        closing.set()
        await asyncio.Event().wait()

    async def scenario():
        alice, bob = [await open_page(c) for c in (alice_cookie, bob_cookie)]
        hub = get_hub()
        (alice_socket,) = hub.users[users["alice"].pk]
        alice_socket.send, alice_socket.close = stuck, stuck_close
        started = asyncio.get_running_loop().time()
        await db(notify)(User.objects.filter(username__in=["alice", "bob"]).order_by("pk"), "To both")
        assert "To both" in await bob.receive_until("To both", timeout=3)
        assert asyncio.get_running_loop().time() - started < 2  # not the close's wait as well
        await asyncio.wait_for(closing.wait(), 1)
        assert users["alice"].pk not in hub.users  # forgotten at once: no more frames for it
        alice_socket.closing.cancel()
        for page in (alice, bob):
            await page.comm.disconnect()

    run(scenario)
