"""`make run` serves the site as production does, less the reverse proxy (scripts/serve.sh):
gunicorn serves HTTP, uvicorn the WebSockets on the next port, the task worker runs beside them.
A page that gunicorn served connects its socket to uvicorn and shows at once a notification sent
from the command line; stopping serve.sh stops all three."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect

from .asgi_server import REPOSITORY, child_environment, free_port, manage
from .conftest import log_in
from .realtime_helpers import FRAMES, wait_for_socket


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def served(live_server, tmp_path):
    """scripts/serve.sh on the test database (live_server: the test's writes are committed, so
    the served site sees them), on two free ports; stopped with SIGTERM, as Ctrl-C would."""
    port, socket_port = free_port(), free_port()
    environment = child_environment(
        DJANGO_SETTINGS_MODULE="tests.e2e.served_settings",
        HOST="127.0.0.1",
        PORT=str(port),
        SOCKET_PORT=str(socket_port),
        EMAIL_URL=f"file://{tmp_path}/mail",
    )
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        ["bash", "scripts/serve.sh"], cwd=REPOSITORY, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while not (listening(port) and listening(socket_port)):
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "serve.sh did not listen within 30 s"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", socket_port, process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    log.close()


@pytest.fixture
def browser_context_args(browser_context_args, served):
    """This module's contexts open pages on the site serve.sh serves."""
    return {**browser_context_args, "base_url": served[0]}


def test_http_by_gunicorn_sockets_by_uvicorn_live_from_the_command_line(served, new_context, alice):
    base, socket_port, process = served
    with urlopen(f"{base}/accounts/login/", timeout=10) as response:
        assert response.headers["Server"] == "gunicorn"
        policy = response.headers["Content-Security-Policy"]
    assert f"ws://127.0.0.1:{socket_port}" in policy.split("connect-src")[1].split(";")[0]

    context = new_context()
    page = context.new_page()
    page.add_init_script(FRAMES)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    log_in(page, "alice", "pw-alice")
    wait_for_socket(page)
    assert sockets == [f"ws://127.0.0.1:{socket_port}/inbox/ws/"]

    manage("send_notification", "Served by two servers, shown at once", "--user", "alice")
    item = page.get_by_role("listitem").filter(has_text="Served by two servers, shown at once")
    expect(item).to_be_visible(timeout=5_000)  # the socket, well before the badge's next poll
    expect(page.get_by_role("button", name="Notifications, 1 unread")).to_be_visible()

    process.send_signal(signal.SIGTERM)
    process.wait(20)
    ports = [int(base.rsplit(":", 1)[1]), socket_port]
    assert not any(listening(port) for port in ports), "a server outlived serve.sh"


def test_email_links_point_to_the_port_served(served, tmp_path, alice):
    """`make run PORT=...`: the emails' links (INBOX_SITE_URL) follow HOST and PORT, not 8000."""
    base, _socket_port, _process = served
    alice.email = "alice@example.com"
    alice.save()
    subprocess.run(  # queued where serve.sh's worker looks: the database task queue
        [
            sys.executable,
            "manage.py",
            "send_notification",
            "A sign-in",
            "--user",
            "alice",
            "--kind",
            "security",
        ],
        cwd=REPOSITORY,
        env=child_environment(DJANGO_SETTINGS_MODULE="tests.e2e.served_settings"),
        check=True,
        capture_output=True,
        timeout=60,
    )
    mail = written_mail(tmp_path / "mail")  # the served fixture's EMAIL_URL
    assert f"{base}/inbox/" in mail, mail
    assert ":8000" not in mail


def written_mail(folder, timeout: float = 30) -> str:
    """The emails serve.sh's task worker wrote into `folder`, once it wrote one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if files := sorted(folder.glob("*")) if folder.exists() else []:
            return "".join(file.read_text() for file in files)
        time.sleep(0.2)
    raise AssertionError(f"no email was written within {timeout} s")
