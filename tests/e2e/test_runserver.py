"""Plain `manage.py runserver`, the first thing a Django developer runs: it cannot upgrade the
page's socket. The socket's URL answers a 4xx (never a 500: a WSGI server refuses the
`Upgrade` header a 426 needs, and `X-Inbox-Socket: needs-asgi`), the page gives up its socket
on that answer (asked once over plain HTTP after a failed open) instead of retrying (and
logging) forever, and the badge still updates, by polling."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from inbox.api import notify

from .asgi_server import REPOSITORY, child_environment, free_port
from .conftest import log_in, unread_name
from .test_make_run import listening

# Each failed open is logged twice, by Chromium and by htmx (its hx-ws error event); a page cannot
# silence either, so the page stops opening: a few at load, none after.
FAILED_SOCKET = r"WebSocket connection to 'ws://127\.0\.0\.1:\d+/inbox/ws/' failed|htmx: htmx:ws:error"
MAX_FAILED_OPENS = 3  # at most: the answer comes before hx-ws's second or third try


@pytest.fixture
def runserver(live_server, tmp_path):
    """`manage.py runserver` on the test database (live_server commits the test's writes)."""
    port = free_port()
    log_path = tmp_path / "runserver.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPOSITORY,
            env=child_environment(INBOX_E2E_POLL_SECONDS="2"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not listening(port):
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "runserver did not listen within 30 s"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", log_path
        process.terminate()
        process.wait(20)


@pytest.fixture
def browser_context_args(browser_context_args, runserver):
    return {**browser_context_args, "base_url": runserver[0]}


def test_under_runserver_the_page_stops_its_socket_and_polls_quietly(
    runserver, new_context, browser_errors, alice
):
    base, log_path = runserver
    browser_errors.allow(FAILED_SOCKET)  # counted below
    context = new_context()
    page = context.new_page()
    errors: list[tuple[float, str]] = []
    page.on("console", lambda m: errors.append((time.monotonic(), m.text)) if m.type == "error" else None)
    log_in(page, "alice", "pw-alice")
    started = time.monotonic()
    expect(page.locator("[data-live][data-gave-up]")).to_be_attached(timeout=20_000)
    gave_up = time.monotonic()

    notify(alice, "Polled in, no socket needed")
    expect(page.get_by_role("button", name=re.compile("^Notifications"))).to_have_accessible_name(
        unread_name(1), timeout=10_000
    )
    page.wait_for_timeout(max(0, 30 - (time.monotonic() - started)) * 1000)

    assert 1 <= len(errors) <= 2 * MAX_FAILED_OPENS, errors
    assert all(re.search(FAILED_SOCKET, text) for _, text in errors), errors
    assert not [text for at, text in errors if at > gave_up], "the page kept opening its socket"
    log = log_path.read_text()
    assert '"GET /inbox/ws/ HTTP/1.1" 400' in log, log
    assert "Traceback" not in log and " 500 " not in log and "Hop-by-hop" not in log, log
