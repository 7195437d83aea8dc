"""Inbox in someone else's project: build the app's wheel and sdist, make a new site with
`django-admin startproject` in a fresh virtualenv, install the wheel (pip pulls its dependencies),
add the lines of the README's "Add Inbox to your project" section (read from there, so the
README cannot drift from what is tested: its `pip install`, settings, urls, asgi.py and base.html),
and use the bell, the dashboard and an action in Chromium, served by `manage.py runserver` (daphne's,
ASGI, as the README sets it up), under the README's Content Security Policy (a violation is a
console error, which fails the test); a notification sent by `manage.py send_notification` in
another process then shows in the open page without a reload, over the page's socket. A second
site adds only the README's lines for the core and the web UI, installed without extras (no
django-webpush, pywebpush or Channels), and uses them.

Slow-ish (about 40 s with a warm pip cache) and bounded: every step has a timeout."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from .conftest import shows, unread_name
from .realtime_helpers import FRAMES, SOCKET_UP, wait_for_socket

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SECTION = "## Add Inbox to your project"
# A README block: an HTML comment naming the file it goes into (or "install": a pip command), and
# "channels" if only a site with Inbox's channels adds it, then a fenced code block. Blocks for
# the same file are added in the README's order.
BLOCK = re.compile(
    r"<!-- host-project: (?P<file>\S+)(?P<channels> channels)? -->\n```[a-z]*\n(?P<code>.*?)\n```", re.DOTALL
)
APP_SOURCES = ["inbox", "pyproject.toml", "MANIFEST.in", "README.md"]
PROJECT = "mysite"
USERNAME, PASSWORD = "ada", "host-pw-12345"

# What a host project has of its own, that is not Inbox's: a page of the site's.
HOST_PAGE = """{% extends "base.html" %}{% block title %}Home{% endblock %}
{% block content %}<h1>My site</h1>{% endblock %}
"""
HOST_URLS = """
from django.views.generic import TemplateView
urlpatterns += [path("", TemplateView.as_view(template_name="home.html"))]
"""


def readme_blocks(core_only: bool = False) -> dict[str, str]:
    """The lines the README tells a host project to add, by the file they go into: all of them,
    or those for the core and the web UI only."""
    text = README.read_text()
    assert SECTION in text, f"README.md has no {SECTION!r} section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks: dict[str, str] = {}
    for match in BLOCK.finditer(section):
        if not (core_only and match["channels"]):
            blocks[match["file"]] = blocks.get(match["file"], "") + match["code"] + "\n"
    expected = {"settings.py", "urls.py", "templates/base.html"} | (
        set() if core_only else {"install", "asgi.py"}
    )
    assert set(blocks) == expected, blocks.keys()
    return blocks


def pip_installs(block: str) -> list[list[str]]:
    """The arguments of each `pip install ...` line of the README's install block."""
    commands = [shlex.split(line) for line in block.splitlines() if line.strip()]
    for command in commands:
        assert command[:2] == ["pip", "install"] and len(command) > 2, f"not a pip install: {command}"
    return [command[2:] for command in commands]


def run(args: list, step: str, timeout: float, **kwargs) -> str:
    """Run one step; a failure says which step and shows the end of its output."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{step}: no answer in {timeout} s ({' '.join(map(str, args))})", pytrace=False)
    if done.returncode:
        output = (done.stdout + done.stderr)[-3000:]
        pytest.fail(f"{step} failed (exit {done.returncode}):\n{output}", pytrace=False)
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The app's sdist and the wheel built from it (`python -m build`), from a copy of the app's
    files, so the build leaves nothing in the work tree."""
    tmp = tmp_path_factory.mktemp("build")
    source = tmp / "src"
    for name in APP_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, source / name)
    out = tmp / "dist"
    # --no-isolation: this environment's setuptools, no download; the wheel is built from the sdist.
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source], "python -m build", 180)
    # The distribution's name, not the package's: "inbox" on PyPI is another project.
    wheel, sdist = out.glob("django_notification_inbox-*.whl"), out.glob("django_notification_inbox-*.tar.gz")
    return {"wheel": next(wheel), "sdist": next(sdist)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"The host's runserver exited:\n{log.read_text()[-3000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(url + "admin/login/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; what went wrong shows in the browser and the log
        except OSError:
            time.sleep(0.3)
    output = log.read_text()[-3000:]
    pytest.fail(f"The host's runserver did not answer in {timeout} s:\n{output}", pytrace=False)


# What a site installed without extras cannot import: the libraries of [push] and [realtime], and
# daphne (runserver is then Django's, WSGI).
EXTRAS_LIBRARIES = ("webpush", "pywebpush", "http_ece", "aiohttp", "channels", "daphne")


@pytest.fixture(scope="module")
def host(dist, tmp_path_factory):
    """A new project with Inbox added as the README says, served by runserver (daphne's, ASGI;
    DEBUG, so it serves the static files) on a free port, with a staff user and one notification
    for them. `manage(...)` runs the host's manage.py."""
    yield from serve_host(dist, tmp_path_factory.mktemp("host"))


@pytest.fixture(scope="module")
def core_host(dist, tmp_path_factory):
    """The same with the core and the web UI only: the wheel without extras (no django-webpush,
    pywebpush or Channels), the README's lines not marked "channels" (no daphne, no asgi.py),
    Django's own runserver (WSGI)."""
    yield from serve_host(dist, tmp_path_factory.mktemp("core-host"), core_only=True)


def serve_host(dist, tmp: Path, core_only: bool = False):
    venv, site = tmp / "venv", tmp / "site"
    bin_dir = venv / "bin"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "VAPID_", "VIRTUAL_ENV", "PYTHON", "DATABASE_URL"))
    }
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    run([sys.executable, "-m", "venv", venv], "python -m venv", 120)
    pip = [bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # With the extras of the apps the README lists (inbox.push, inbox.realtime), or none.
    wheel = str(dist["wheel"]) if core_only else f"{dist['wheel']}[push,realtime]"
    run([*pip, wheel], "pip install of the wheel (and its dependencies)", 300, env=env)
    blocks = readme_blocks(core_only)
    if core_only:
        for library in EXTRAS_LIBRARIES:
            check = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({library!r}) is not None)"
            run([bin_dir / "python", "-c", check], f"{library} is not installed", 60, env=env)
    else:
        for packages in pip_installs(blocks.pop("install")):
            run([*pip, *packages], f"the README's pip install {' '.join(packages)}", 300, env=env)
    site.mkdir()
    run([bin_dir / "django-admin", "startproject", PROJECT, site], "django-admin startproject", 60, env=env)

    for name, code in blocks.items():
        path = site / PROJECT / name if name.endswith(".py") else site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as file:  # settings, urls, asgi: appended, as the README says
            file.write("\n" + code if name.endswith(".py") else code)
    with (site / PROJECT / "urls.py").open("a") as file:
        file.write(HOST_URLS)
    (site / "templates" / "home.html").write_text(HOST_PAGE)

    def manage(*args, step=None, extra_env=None, timeout=120) -> str:
        command = [bin_dir / "python", "manage.py", *args]
        step = step or f"manage.py {args[0]}"
        return run(command, step, timeout, cwd=site, env={**env, **(extra_env or {})})

    if not core_only:  # the command is inbox.push's
        vapid = dict(line.split("=", 1) for line in manage("generate_vapid_keys").split())
        env.update(vapid)
    manage("check", "--fail-level", "WARNING")
    migrated = manage("migrate", "--noinput")
    assert "not yet reflected in a migration" not in migrated, migrated  # django-webpush's drift
    manage(
        "createsuperuser",
        "--noinput",
        f"--username={USERNAME}",
        "--email=ada@example.com",
        extra_env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD},
    )
    sent = manage("send_notification", "Hello from the host", "--user", USERNAME, "--level", "success")
    assert "Sent to 1 recipient" in sent, sent
    manage("inbox_worker", "--batch", step="manage.py inbox_worker --batch (the push task, if any)")

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp / "runserver.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [bin_dir / "python", "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=site,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(url, server, log)
        yield {"url": url, "site": site, "log": log, "manage": manage}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def test_the_wheel_holds_the_app_and_nothing_of_the_site(dist):
    names = zipfile.ZipFile(dist["wheel"]).namelist()
    for expected in (
        "inbox/web/templates/inbox/base.html",
        "inbox/pwa/static/inbox/sw.js",
        "inbox/web/static/inbox/vendor/htmx-4.0.1.min.js",
        "inbox/realtime/static/inbox/vendor/hx-ws-4.0.1.min.js",
        "inbox/mail/templates/inbox/mail/digest.html",
        "inbox/migrations/0001_initial.py",
        "inbox/web/templatetags/inbox.py",
        "inbox/management/commands/send_notification.py",
        "inbox/push/migrations/0001_initial.py",
        "inbox/mail/management/commands/send_digests.py",
    ):
        assert expected in names
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"inbox", f"{dist['wheel'].name.split('-py3')[0]}.dist-info"}, tops


def server_error(log: Path) -> str:
    """The last error the host's runserver logged (a 500's traceback ends with its cause)."""
    text = log.read_text()
    start = text.rfind("Internal Server Error")
    return text[start:][-2500:] if start >= 0 else ""


def test_bell_dashboard_and_an_action_in_a_new_project(host, new_context, browser_errors):
    browser_errors.allow(r"/favicon\.ico\)$")  # the admin's login page names no icon: the host's 404
    page = new_context().new_page()  # its base_url is the live server's: URLs here are absolute
    page.add_init_script(FRAMES)
    try:
        use_inbox(page, host["url"])
        live_update(page, host["manage"])
    except (AssertionError, PlaywrightError):
        if error := server_error(host["log"]):
            pytest.fail(f"The host project failed (check the README's lines):\n{error}", pytrace=False)
        raise


def test_the_core_and_the_web_ui_alone_in_a_new_project(core_host, new_context, browser_errors):
    """A site that lists only "inbox" and "inbox.web", installed without extras (no django-webpush,
    pywebpush or Channels), gets the bell, the dashboard and its actions; pages poll (no socket)
    and register no service worker."""
    browser_errors.allow(r"/favicon\.ico\)$")
    page = new_context().new_page()
    url = core_host["url"]
    try:
        login(page, url, "/inbox/")
        bell = page.get_by_role("button", name=re.compile("^Notifications"))
        expect(bell).to_have_accessible_name(unread_name(1))
        item = page.get_by_role("listitem").filter(has_text="Hello from the host")
        item.get_by_role("button", name="Mark as read").click()
        expect(item.get_by_role("button", name="Mark as unread")).to_be_visible()
        expect(bell).to_have_accessible_name(unread_name(0))
        assert page.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0
        expect(page.locator(SOCKET_UP)).to_have_count(0)
    except (AssertionError, PlaywrightError):
        if error := server_error(core_host["log"]):
            pytest.fail(f"The core-only host failed:\n{error}", pytrace=False)
        raise


def test_a_bad_parameter_is_never_run_as_script_even_without_a_csp(host, new_context, browser_errors):
    """The README's CSP would stop a reflected script; a host that leaves it out must be safe too
    (a 400 once put ?kind= back into its HTML as it was)."""
    browser_errors.allow(r"status of 400 ")
    browser_errors.allow(r"/favicon\.ico\)$")  # the admin's login and the debug page name no icon
    page = new_context(bypass_csp=True).new_page()
    login(page, host["url"])
    payload = "<script>window.__reflected = 1</script>"
    response = page.goto(host["url"] + "inbox/?" + urllib.parse.urlencode({"kind": payload}))
    assert response.status == 400
    assert page.evaluate("window.__reflected") is None, "the reflected script ran"
    expect(page.get_by_text("Unknown kind: <script>").first).to_be_visible()  # shown as text


def login(page, url: str, next_url: str = "/") -> None:
    """Through the README's login URLs and the app's login page (a new project has no other)."""
    page.goto(url + f"accounts/login/?next={next_url}")
    submit_login(page)
    page.wait_for_url(url + next_url.lstrip("/"))


def submit_login(page) -> None:
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def use_inbox(page, url: str) -> None:
    # A first visit to the inbox, logged out, is the login page (a new project had a 404 there),
    # which comes back to the inbox.
    page.goto(url + "inbox/")
    expect(page).to_have_url(url + "accounts/login/?next=/inbox/")
    submit_login(page)
    expect(page).to_have_url(url + "inbox/")
    page.goto(url)

    # The host's page, from the host's base.html: the bell with its unread badge.
    expect(page.get_by_role("heading", name="My site")).to_be_visible()
    bell = page.get_by_role("button", name=re.compile("^Notifications"))
    expect(bell).to_have_accessible_name(unread_name(1))
    bell.click()
    dropdown = page.locator(f"#{bell.get_attribute('aria-controls')}")
    expect(dropdown.get_by_text("Hello from the host")).to_be_visible()

    # The dashboard lists it; Mark as read works in place (no page load) and the badge follows.
    dropdown.get_by_role("link", name="See all notifications").click()
    expect(page).to_have_url(re.compile(r"/inbox/"))
    expect(page).to_have_title(re.compile("Notifications"))
    # Under the README's Content Security Policy: a violation would be a console error here.
    assert page.evaluate("fetch(location.href).then((r) => r.headers.get('content-security-policy'))")
    item = page.get_by_role("listitem").filter(has_text="Hello from the host")
    expect(item).to_have_text(shows("Hello from the host"))
    page.evaluate("window.__marker = 1")
    item.get_by_role("button", name="Mark as read").click()
    expect(item.get_by_role("button", name="Mark as unread")).to_be_visible()
    expect(bell).to_have_accessible_name(unread_name(0))
    assert page.evaluate("window.__marker") == 1, "Mark as read loaded a new page"

    # The app's service worker controls the host's pages (scope "/").
    scope = page.evaluate("navigator.serviceWorker.ready.then((registration) => registration.scope)")
    assert scope == url


def live_update(page, manage) -> None:
    """The dashboard's socket is up (the host's runserver serves ASGI and its asgi.py routes the
    socket), so a notification sent by another process shows at once: badge, list, live region."""
    expect(page.locator(SOCKET_UP), "no socket: is the host served by ASGI?").to_have_count(1)
    wait_for_socket(page)

    manage("send_notification", "Live from the host", "--user", USERNAME, timeout=60)

    bell = page.get_by_role("button", name=re.compile("^Notifications"))
    expect(bell).to_have_accessible_name(unread_name(1))
    items = page.get_by_role("listitem").filter(has_text=re.compile("from the host"))
    expect(items.first).to_have_text(shows("Live from the host"))
    expect(items).to_have_count(2)
    expect(page.get_by_role("status").filter(has_text="New notification")).to_have_text(
        "New notification: Live from the host"
    )
    assert page.evaluate("window.__marker") == 1, "the page was loaded again"
