"""Chromium: a page on another port of the site's host (another origin, yet the same site for
cookies: the browser sends alice's session cookie with its socket) cannot open alice's socket
and reads none of her notifications; the site's own page, the same script, can."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .realtime_helpers import tab

# Opens the site's socket from the page it runs in, says hello as the site's page does, and
# reports whether the socket opened and how many characters it received before it closed.
PROBE = """async (url) => {
  const socket = new WebSocket(url);
  let opened = false, received = 0;
  socket.onopen = () => {
    opened = true;
    socket.send(JSON.stringify({type: "hello", tab: "probe", csrf: "a".repeat(64), page: "dashboard",
      filter: "all", top: true, newest: "", shown: [], dropdown: true}));
  };
  socket.onmessage = (event) => { received += event.data.length; };
  return await new Promise((resolve) => {
    socket.onclose = (event) => resolve({opened, received, code: event.code});
    setTimeout(() => { socket.close(); }, 3000);  // the site's page: stop listening after a while
  });
}"""


class Blank(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>Another port</title><p>Nothing here."
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_port():
    """A plain web server on another port of 127.0.0.1: another origin of the site's host."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Blank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_page_on_another_port_cannot_read_alices_socket(
    asgi_context, asgi, alice, make_notifications, other_port, browser_errors
):
    make_notifications(alice, 30, text="Alice's private note {i}")
    socket_url = f"ws://127.0.0.1:{asgi.port}/inbox/ws/"
    context = asgi_context()
    site = tab(context, login=("alice", "pw-alice"))

    # The same script on the site's own page gets alice's notifications: the probe can see them.
    own = site.evaluate(PROBE, socket_url)
    assert own["opened"] and own["received"] > 1000, own

    browser_errors.allow(r"WebSocket connection to .* failed")
    attacker = context.new_page()
    attacker.goto(other_port + "/")
    cookies = {c["name"] for c in context.cookies(socket_url.replace("ws:", "http:"))}
    assert "sessionid" in cookies  # the browser would send alice's session with the socket
    other = attacker.evaluate(PROBE, socket_url)
    assert other == {"opened": False, "received": 0, "code": 1006}, other
