"""Browser tests: real Chromium (Debian's, at /usr/bin/chromium) against pytest-django's live
server. Every context is watched for console errors and page errors (a broken script or a
Content Security Policy violation), which fail the test at teardown."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, expect

from inbox.push import endpoints

from .asgi_server import AsgiServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, live_server):
    """Debian's Chromium. Depending on live_server makes the server start before the browser
    and stop after it, so no request is cut off at the end of the session."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, tmp_path_factory):
    """On SQLite, the browser tests use a database file, new for each run, not the in-memory
    database: that one is a single connection shared by the test and the live server's request
    threads, and a write from the test while the page polls the badge could hit it at the same
    moment ("bad parameter or other API misuse"). With a file, each thread has a connection of
    its own and SQLite's locking (WAL) orders them."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("e2e-db") / "test.sqlite3")


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started after the test database is set up. settings.MEDIA_URL
    is set, so it does not serve the working directory at "/"."""
    return live_server


class InFlight:
    """How many requests the live server is answering right now."""

    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()

    def started(self, **kwargs) -> None:
        with self.changed:
            self.count += 1

    def finished(self, **kwargs) -> None:
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count <= 0, timeout)


@pytest.fixture(scope="session")
def in_flight():
    tracker = InFlight()
    request_started.connect(tracker.started, dispatch_uid="e2e-in-flight")
    request_finished.connect(tracker.finished, dispatch_uid="e2e-in-flight")
    yield tracker
    request_started.disconnect(dispatch_uid="e2e-in-flight")
    request_finished.disconnect(dispatch_uid="e2e-in-flight")


@pytest.fixture(autouse=True)
def server_idle_before_flush(in_flight, live_server):
    """The test database is flushed after each test. A request the server is still answering
    then (a badge poll fired just before the page closed) holds a table lock, and the flush
    fails with "database table is locked": wait for such requests first. Set up before the
    pages, so it runs after they are closed; after the flush fixture, so it runs before it."""
    yield
    in_flight.wait_until_idle(timeout=10)  # bounded: a request that never ends is not ours to fail on


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative URLs in page.goto("/inbox/") and expect(page).to_have_url(...)."""
    return live_server.url


@pytest.fixture(autouse=True)
def fast_poll(settings):
    """The badge polls every second, so "within one poll" is quick to wait for."""
    settings.INBOX_BADGE_POLL_SECONDS = 1


@pytest.fixture(autouse=True)
def no_socket_on_wsgi_server(leave_out):
    """live_server speaks WSGI only, so its pages are those of a site without inbox.realtime:
    they offer no socket and poll. The real-time tests use asgi_server instead."""
    leave_out("inbox.realtime")


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, tmp_path_factory):
    """uvicorn serving config.asgi (HTTP and WebSockets) in a child process on the test
    database, for the session; a test may stop and start it (see the `asgi` fixture)."""
    server = AsgiServer(tmp_path_factory.mktemp("asgi") / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def asgi(asgi_server, live_server):
    """The ASGI server, running (a test before may have stopped it); asking for live_server
    gives the test transactional database access, so what it writes the server sees."""
    if not asgi_server.running:
        asgi_server.start()
    return asgi_server


@pytest.fixture
def browser_context_args(browser_context_args, request):
    """A test that uses the ASGI server gets contexts whose relative URLs go to it."""
    if "asgi" in request.fixturenames:
        return {**browser_context_args, "base_url": request.getfixturevalue("asgi").url}
    return browser_context_args


@pytest.fixture
def asgi_context(asgi, new_context):
    """asgi_context() is a new browser context (watched for errors) on the ASGI server."""
    return new_context


class BrowserErrors:
    """Console errors and uncaught page errors of every watched context."""

    def __init__(self):
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        """Expect console errors matching `pattern` (e.g. Chromium's log of a 403 response)."""
        self.allowed.append(re.compile(pattern))

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.errors.append(f"page error: {error.error}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location.get('url')})")

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def browser_errors():
    errors = BrowserErrors()
    yield errors
    if unexpected := errors.unexpected():
        pytest.fail("The browser reported errors:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def new_context(new_context, browser_errors, live_server):
    """pytest-playwright's contexts (also the `page` fixture's), watched for errors; asking for
    one starts the live server and gives the test transactional database access."""

    def make(**kwargs) -> BrowserContext:
        context = new_context(**kwargs)
        context.set_default_timeout(10_000)
        browser_errors.watch(context)
        return context

    return make


@contextmanager
def no_page_load(page: Page):
    """The actions inside swap content in place: no document loads (htmx's pushState is not
    one) and the window, marked before, is the same window after."""
    loads = []

    def record(loaded: Page) -> None:
        loads.append(loaded.url)

    page.on("load", record)
    page.evaluate("window.__marker = 1")
    yield
    page.remove_listener("load", record)
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    assert loads == [], f"documents loaded: {loads}"


def log_in(page: Page, username: str, password: str) -> None:
    """Log in through the real login form; it lands on the dashboard."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()


@pytest.fixture
def login(page):
    """login(user, password) logs the `page` in through the login form and returns it."""

    def do(user, password: str) -> Page:
        log_in(page, user.get_username(), password)
        return page

    return do


@pytest.fixture
def bell(page):
    """The bell button (its accessible name is "Notifications, N unread")."""
    return page.get_by_role("button", name=re.compile("^Notifications"))


def unread_name(count: int) -> re.Pattern:
    """The bell's accessible name with `count` unread."""
    return re.compile(rf"^Notifications\W+{count} unread$")


def shows(text: str) -> re.Pattern:
    """An element's text that contains `text` as whole words (white space around it): for
    to_have_text on list items, whose text also holds their time and buttons."""
    return re.compile(rf"(^|\s){re.escape(text)}(\s|$)")


def dropdown_of(bell: Locator) -> Locator:
    """The dropdown panel the bell button says it controls (aria-controls); call it once the
    page with the bell is loaded."""
    return bell.page.locator(f"#{bell.get_attribute('aria-controls')}")


@pytest.fixture
def public_push_host(monkeypatch):
    """push.example.net resolves (to a public address) inside the live server's thread."""
    resolve = endpoints.resolve
    monkeypatch.setattr(
        endpoints,
        "resolve",
        lambda host, port: ["93.184.216.34"] if host == "push.example.net" else resolve(host, port),
    )
