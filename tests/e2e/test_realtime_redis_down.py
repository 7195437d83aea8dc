"""With REDIS_URL pointing at a Redis that is down (a closed port) or hung (accepts, never
answers), the server closes the page's socket with 4503: the page polls, so a new notification
shows within a poll, and it tries its socket again later (with backoff); the server says once
that real time is down, however many sockets it closed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.api import notify
from tests.realtime.fake_redis import HungRedis, closed_port_url

from .asgi_server import AsgiServer
from .conftest import log_in, unread_name
from .test_realtime import bell_of
from .test_realtime_fallback import CLOSES, badge_requests

DOWN_LINE = "Real time (its source of events) is down"


@pytest.fixture(params=["down", "hung"])
def redis_url(request):
    if request.param == "down":
        yield closed_port_url()
    else:
        hung = HungRedis()
        yield hung.url
        hung.close()


@pytest.fixture
def server(redis_url, tmp_path, live_server):
    served = AsgiServer(tmp_path / "server.log", REDIS_URL=redis_url)
    served.start()
    yield served
    served.stop()


@pytest.fixture
def browser_context_args(browser_context_args, server):
    return {**browser_context_args, "base_url": server.url}


def test_the_page_polls_while_redis_is_unreachable(server, new_context, alice):
    context = new_context()
    page = context.new_page()
    page.add_init_script(CLOSES)
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    log_in(page, "alice", "pw-alice")
    expect(bell_of(page)).to_have_accessible_name(unread_name(0))
    # Listening from here: a page with its socket open does not poll, and the first poll can
    # start as soon as the socket closes, before the wait below returns.
    polls = badge_requests(page)
    # The hub finds Redis refusing at once, or not answering within its 5 s.
    page.wait_for_function("() => window.__closes.includes(4503)", timeout=15_000)

    notify([alice], "Sent while Redis is unreachable")
    expect(bell_of(page)).to_have_accessible_name(unread_name(1))  # within one poll (1 s)
    assert polls, "the badge did not poll"

    page.wait_for_function(
        "() => window.__closes.filter((code) => code === 4503).length >= 2", timeout=20_000
    )
    assert len(sockets) >= 2, "the page did not try its socket again"
    log = server.log_path.read_text()
    assert log.count(DOWN_LINE) == 1, log[-4000:]
